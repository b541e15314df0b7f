// Prometheus text-format metrics for GET /metrics: counters and histograms with labels, no deps.

type LabelValues = Readonly<Record<string, string>>;

/** Labels as Prometheus text, sorted by name, values escaped: `a="1",b="x\\"y"`. */
export function promLabels(labels: LabelValues): string {
  return Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: LabelValues = {}, by = 1): void {
    const k = promLabels(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: LabelValues = {}): number {
    return this.values.get(promLabels(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(k ? `${this.name}{${k}} ${v}` : `${this.name} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels: LabelValues = {}): void {
    this.values.set(promLabels(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [k, v] of this.values) lines.push(k ? `${this.name}{${k}} ${v}` : `${this.name} ${v}`);
    return lines.join('\n');
  }
}

/** Seconds-based histogram with fixed buckets. */
export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ) {}
  observe(value: number, labels: LabelValues = {}): void {
    const k = promLabels(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(k ? `${this.name}_sum{${k}} ${s.sum}` : `${this.name}_sum ${s.sum}`);
      lines.push(k ? `${this.name}_count{${k}} ${s.count}` : `${this.name}_count ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** One registry per server instance (passed in deps, so tests see their own numbers). */
export class Metrics {
  readonly ingestedBytes = new Counter(
    'hotpath_ingested_bytes_total',
    'Bytes of request bodies accepted, before decompression.',
  );
  readonly ingestedProfiles = new Counter(
    'hotpath_ingested_profiles_total',
    'Profiles (one per series and sample type) stored.',
  );
  readonly ingestedSamples = new Counter(
    'hotpath_ingested_samples_total',
    'Samples (distinct stacks per profile) stored.',
  );
  readonly rejections = new Counter('hotpath_rejections_total', 'Requests rejected, by stable error code.');
  readonly requestDuration = new Histogram('hotpath_request_duration_seconds', 'Request latency by route.');
  readonly queryDuration = new Histogram('hotpath_query_duration_seconds', 'Query latency by method.');
  readonly commitDuration = new Histogram(
    'hotpath_store_commit_duration_seconds',
    'Store group-commit latency.',
  );
  readonly truncations = new Counter(
    'hotpath_ingest_truncations_total',
    'Stacks cut to the depth limit and symbols cut to the length limit, by kind.',
  );
  readonly activeSeries = new Gauge('hotpath_series', 'Series known to the store.');
  readonly ruleDrops = new Counter(
    'hotpath_recording_rule_dropped_total',
    'Recording rule increments not recorded, by tenant, rule id and code (rule_series_limit: the rule has its maximum of series).',
  );

  render(): string {
    return (
      [
        this.ingestedBytes,
        this.ingestedProfiles,
        this.ingestedSamples,
        this.rejections,
        this.truncations,
        this.requestDuration,
        this.queryDuration,
        this.commitDuration,
        this.activeSeries,
        this.ruleDrops,
      ]
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}
