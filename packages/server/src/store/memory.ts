// The in-memory Store (`--store memory`): explicitly NOT durable (data is lost on exit); for demos,
// the UI's development loop and fast tests. Stack ids are interned to dense indexes once at append
// time, so a merge is a typed-array scatter-add over the selected profiles, with no BigInt per sample.

import { formatLabels, getLabel, type Labels } from '@hotpath/core';
import { IdTable, halvesOf } from './id-table.ts';
import { compileMatchers, compileSelectors, lookupOf } from './match.ts';
import { filtersStacks, StackMatcher } from './stack-filter.ts';
import type {
  ApiKeyRecord,
  DocumentRecord,
  FunctionRecord,
  MergedStacks,
  ProfileQuery,
  ProfileStats,
  SeriesPoints,
  SeriesQuery,
  SpanExemplar,
  SpanQuery,
  SpanRecord,
  SpanSelector,
  SpanSummary,
  StackFilter,
  StackRecord,
  Store,
  TimeSeriesQuery,
  WriteBatch,
} from './types.ts';

interface StoredProfile {
  readonly timeMs: number;
  /** Dense stack indexes into MemoryStore.stackIndex. */
  readonly stacks: Int32Array;
  readonly values: Float64Array;
  readonly total: number;
  /** As ProfileRecord.spanIds/spans; absent when no sample had a span. */
  readonly spanIds?: BigUint64Array;
  readonly spans?: readonly SpanRecord[];
}

interface StoredSeries {
  readonly labels: Labels;
  readonly profileTypeId: string;
  profiles: StoredProfile[];
  /** False after an out-of-order append; sorted lazily by the next query. */
  sorted: boolean;
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly tenants = new Map<string, Map<string, StoredSeries>>();
  private readonly functions = new Map<bigint, FunctionRecord>();
  private readonly stacks = new Map<bigint, StackRecord>();
  /** Every stack id seen in a profile → dense index (shared by all tenants: ids are content hashes). */
  private readonly stackIndex = new IdTable(1 << 16);
  /** API keys by hash, in creation order. */
  private readonly apiKeys = new Map<string, ApiKeyRecord>();
  /** Documents by `kind \0 tenant \0 id`. */
  private readonly documents = new Map<string, DocumentRecord>();
  private closed = false;

  async init(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('memory store is closed');
  }

  async append(batch: WriteBatch): Promise<void> {
    this.checkOpen();
    for (const f of batch.functions) if (!this.functions.has(f.id)) this.functions.set(f.id, f);
    for (const s of batch.stacks) if (!this.stacks.has(s.id)) this.stacks.set(s.id, s);
    for (const p of batch.profiles) {
      let bySeries = this.tenants.get(p.tenant);
      if (bySeries === undefined) {
        bySeries = new Map();
        this.tenants.set(p.tenant, bySeries);
      }
      const key = formatLabels(p.labels);
      let series = bySeries.get(key);
      if (series === undefined) {
        series = {
          labels: p.labels,
          profileTypeId: getLabel(p.labels, '__profile_type__') ?? '',
          profiles: [],
          sorted: true,
        };
        bySeries.set(key, series);
      }
      let total = 0;
      for (let i = 0; i < p.values.length; i++) total += p.values[i]!;
      const last = series.profiles[series.profiles.length - 1];
      if (last !== undefined && last.timeMs > p.timeMs) series.sorted = false;
      series.profiles.push({
        timeMs: p.timeMs,
        stacks: this.stackIndex.internAll(p.stackIds),
        values: Float64Array.from(p.values),
        total,
        ...(p.spanIds !== undefined && p.spans !== undefined
          ? { spanIds: BigUint64Array.from(p.spanIds), spans: p.spans.map((r) => ({ ...r })) }
          : {}),
      });
    }
  }

  private seriesOf(tenant: string): Iterable<StoredSeries> {
    return this.tenants.get(tenant)?.values() ?? [];
  }

  /** Index of the first profile of `s` at or after startMs (the list is time-sorted first). */
  private firstAtOrAfter(s: StoredSeries, startMs: number): number {
    if (!s.sorted) {
      s.profiles.sort((a, b) => a.timeMs - b.timeMs);
      s.sorted = true;
    }
    const ps = s.profiles;
    let lo = 0;
    let hi = ps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ps[mid]!.timeMs < startMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Profiles of `s` with startMs ≤ time ≤ endMs. */
  private inRange(s: StoredSeries, startMs: number, endMs: number): StoredProfile[] {
    const ps = s.profiles;
    const lo = this.firstAtOrAfter(s, startMs);
    let end = lo;
    while (end < ps.length && ps[end]!.timeMs <= endMs) end++;
    return ps.slice(lo, end);
  }

  private hasData(s: StoredSeries, startMs: number, endMs: number): boolean {
    const i = this.firstAtOrAfter(s, startMs);
    return i < s.profiles.length && s.profiles[i]!.timeMs <= endMs;
  }

  private selected(q: SeriesQuery): StoredSeries[] {
    this.checkOpen();
    const match = compileSelectors(q.selectors);
    const out: StoredSeries[] = [];
    for (const s of this.seriesOf(q.tenant)) {
      if (match(lookupOf(s.labels)) && this.hasData(s, q.startMs, q.endMs)) out.push(s);
    }
    return out;
  }

  async profileTypes(q: SeriesQuery): Promise<string[]> {
    return sortedUnique(
      this.selected(q)
        .map((s) => s.profileTypeId)
        .filter((t) => t !== ''),
    );
  }

  async labelNames(q: SeriesQuery): Promise<string[]> {
    return sortedUnique(this.selected(q).flatMap((s) => s.labels.map((l) => l.name)));
  }

  async labelValues(q: SeriesQuery & { readonly name: string }): Promise<string[]> {
    const values: string[] = [];
    for (const s of this.selected(q)) {
      const v = getLabel(s.labels, q.name);
      if (v !== undefined) values.push(v);
    }
    return sortedUnique(values);
  }

  async series(q: SeriesQuery): Promise<Labels[]> {
    return this.selected(q)
      .map((s) => s.labels)
      .sort((a, b) => cmp(formatLabels(a), formatLabels(b)));
  }

  private profileSeries(q: ProfileQuery): StoredSeries[] {
    this.checkOpen();
    const match = compileMatchers(q.matchers);
    const out: StoredSeries[] = [];
    for (const s of this.seriesOf(q.tenant)) {
      if (s.profileTypeId === q.profileTypeId && match(lookupOf(s.labels))) out.push(s);
    }
    return out;
  }

  /** Scratch for mergeStacks, indexed by dense stack index; all zero between calls. */
  private scratchSums = new Float64Array(0);
  private scratchTouched = new Uint8Array(0);

  async mergeStacks(q: ProfileQuery): Promise<MergedStacks> {
    // The loop below is synchronous, so one scratch buffer serves every call; it is cleared through
    // the list of touched indexes, so a query costs O(its samples), not O(stacks in the store).
    const size = this.stackIndex.size;
    if (this.scratchSums.length < size) {
      this.scratchSums = new Float64Array(Math.max(size, this.scratchSums.length * 2));
      this.scratchTouched = new Uint8Array(this.scratchSums.length);
    }
    const sums = this.scratchSums;
    const touched = this.scratchTouched;
    let list = new Int32Array(1024);
    let distinct = 0;
    for (const s of this.profileSeries(q)) {
      for (const p of this.inRange(s, q.startMs, q.endMs)) {
        const st = p.stacks;
        const v = p.values;
        const keep = q.spans === undefined ? undefined : selectedSpans(p, q.spans);
        if (keep !== undefined && keep.size === 0) continue;
        for (let i = 0; i < st.length; i++) {
          if (keep !== undefined && !keep.has(p.spanIds![i]!)) continue;
          const k = st[i]!;
          sums[k]! += v[i]!;
          if (touched[k] === 0) {
            touched[k] = 1;
            if (distinct === list.length) {
              const next = new Int32Array(list.length * 2);
              next.set(list);
              list = next;
            }
            list[distinct++] = k;
          }
        }
      }
    }
    const stackIds = new BigUint64Array(distinct);
    const halves = halvesOf(stackIds);
    const values = new Float64Array(distinct);
    for (let i = 0; i < distinct; i++) {
      const k = list[i]!;
      this.stackIndex.writeId(k, halves, i);
      values[i] = sums[k]!;
      sums[k] = 0;
      touched[k] = 0;
    }
    return { stackIds, values };
  }

  async timeSeries(q: TimeSeriesQuery): Promise<SeriesPoints[]> {
    if (!(q.stepMs > 0)) throw new Error(`timeSeries step must be > 0 ms, got ${q.stepMs}`);
    // Bucket k covers [start + k·step, start + (k+1)·step) and is stamped start + k·step (conformance.ts).
    const groups = new Map<
      string,
      { labels: Labels; sums: Map<number, number>; counts: Map<number, number> }
    >();
    const keep = filtersStacks(q.stacks) ? this.stackFilterOf(q.stacks) : undefined;
    for (const s of this.profileSeries(q)) {
      const labels: Labels = q.groupBy
        .map((name) => ({ name, value: getLabel(s.labels, name) }))
        .filter((l): l is { name: string; value: string } => l.value !== undefined)
        .sort((a, b) => cmp(a.name, b.name));
      const key = formatLabels(labels);
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels, sums: new Map(), counts: new Map() };
        groups.set(key, g);
      }
      for (const p of this.inRange(s, q.startMs, q.endMs)) {
        const t = q.startMs + Math.floor((p.timeMs - q.startMs) / q.stepMs) * q.stepMs;
        g.counts.set(t, (g.counts.get(t) ?? 0) + 1);
        if (keep === undefined) {
          g.sums.set(t, (g.sums.get(t) ?? 0) + p.total);
          continue;
        }
        let sum = 0;
        let hit = false;
        for (let i = 0; i < p.stacks.length; i++) {
          if (!keep(p.stacks[i]!)) continue;
          sum += p.values[i]!;
          hit = true;
        }
        if (hit) g.sums.set(t, (g.sums.get(t) ?? 0) + sum);
      }
    }
    const out: SeriesPoints[] = [];
    for (const g of groups.values()) {
      if (g.sums.size === 0) continue;
      const ts = [...g.sums.keys()].sort((a, b) => a - b);
      out.push({
        labels: g.labels,
        timestampsMs: Float64Array.from(ts),
        values: Float64Array.from(ts, (t) =>
          q.aggregation === 'avg' ? g.sums.get(t)! / g.counts.get(t)! : g.sums.get(t)!,
        ),
      });
    }
    return out.sort((a, b) => cmp(formatLabels(a.labels), formatLabels(b.labels)));
  }

  /** Whether a dense stack index passes the filter, remembered per index for the query. */
  private stackFilterOf(f: StackFilter): (index: number) => boolean {
    const matcher = new StackMatcher(
      f,
      (id) => this.stacks.get(id),
      (id) => this.functions.get(id)?.name,
    );
    // Per dense index: 0 not asked yet, 1 no, 2 yes (a typed array, not a Map: it is read per sample).
    const seen = new Uint8Array(this.stackIndex.size);
    return (index) => {
      if (seen[index] === 0) seen[index] = matcher.matches(this.stackIndex.idAt(index)) ? 2 : 1;
      return seen[index] === 2;
    };
  }

  async spans(q: SpanQuery): Promise<SpanSummary[]> {
    const bySpan = new Map<bigint, { -readonly [K in keyof SpanSummary]: SpanSummary[K] }>();
    for (const s of this.profileSeries(q)) {
      for (const p of this.inRange(s, q.startMs, q.endMs)) {
        for (const r of p.spans ?? []) {
          const sum = bySpan.get(r.spanId);
          if (sum === undefined) {
            bySpan.set(r.spanId, {
              spanId: r.spanId,
              name: r.name,
              traceId: r.traceId,
              total: r.total,
              samples: r.samples,
              firstMs: p.timeMs,
              lastMs: p.timeMs,
            });
            continue;
          }
          sum.total += r.total;
          sum.samples += r.samples;
          if (sum.name === '') sum.name = r.name;
          if (sum.traceId === '') sum.traceId = r.traceId;
          sum.firstMs = Math.min(sum.firstMs, p.timeMs);
          sum.lastMs = Math.max(sum.lastMs, p.timeMs);
        }
      }
    }
    return [...bySpan.values()]
      .sort((a, b) => b.total - a.total || (a.spanId < b.spanId ? -1 : 1))
      .slice(0, Math.max(0, q.limit));
  }

  async spanExemplars(q: TimeSeriesQuery): Promise<SpanExemplar[]> {
    if (!(q.stepMs > 0)) throw new Error(`spanExemplars step must be > 0 ms, got ${q.stepMs}`);
    const out: SpanExemplar[] = [];
    for (const s of this.profileSeries(q)) {
      const best = new Map<number, SpanExemplar>();
      for (const p of this.inRange(s, q.startMs, q.endMs)) {
        const t = q.startMs + Math.floor((p.timeMs - q.startMs) / q.stepMs) * q.stepMs;
        for (const r of p.spans ?? []) {
          const b = best.get(t);
          if (b !== undefined && (b.total > r.total || (b.total === r.total && b.spanId < r.spanId)))
            continue;
          best.set(t, {
            labels: s.labels,
            timestampMs: t,
            timeMs: p.timeMs,
            spanId: r.spanId,
            name: r.name,
            traceId: r.traceId,
            total: r.total,
          });
        }
      }
      out.push(...[...best.values()].sort((a, b) => a.timestampMs - b.timestampMs));
    }
    return out;
  }

  async getStacks(ids: readonly bigint[]): Promise<Map<bigint, StackRecord>> {
    this.checkOpen();
    const out = new Map<bigint, StackRecord>();
    for (const id of ids) {
      const s = this.stacks.get(id);
      if (s !== undefined) out.set(id, s);
    }
    return out;
  }

  async getFunctions(ids: readonly bigint[]): Promise<Map<bigint, FunctionRecord>> {
    this.checkOpen();
    const out = new Map<bigint, FunctionRecord>();
    for (const id of ids) {
      const f = this.functions.get(id);
      if (f !== undefined) out.set(id, f);
    }
    return out;
  }

  async stats(tenant: string): Promise<ProfileStats> {
    this.checkOpen();
    let oldest = Infinity;
    let newest = -Infinity;
    for (const s of this.seriesOf(tenant)) {
      for (const p of s.profiles) {
        if (p.timeMs < oldest) oldest = p.timeMs;
        if (p.timeMs > newest) newest = p.timeMs;
      }
    }
    if (oldest === Infinity) return { dataIngested: false, oldestProfileTimeMs: 0, newestProfileTimeMs: 0 };
    return { dataIngested: true, oldestProfileTimeMs: oldest, newestProfileTimeMs: newest };
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    this.checkOpen();
    this.apiKeys.set(key.hash, { ...key });
  }

  async apiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    this.checkOpen();
    const k = this.apiKeys.get(hash);
    return k === undefined ? undefined : { ...k };
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    this.checkOpen();
    return [...this.apiKeys.values()].map((k) => ({ ...k }));
  }

  async revokeApiKey(id: string, revokedMs: number): Promise<boolean> {
    this.checkOpen();
    for (const [hash, k] of this.apiKeys) {
      if (k.id !== id) continue;
      if (k.revokedMs === 0) this.apiKeys.set(hash, { ...k, revokedMs });
      return true;
    }
    return false;
  }

  async putDocument(doc: DocumentRecord): Promise<void> {
    this.checkOpen();
    this.documents.set(docKey(doc.tenant, doc.kind, doc.id), { ...doc });
  }

  async getDocument(tenant: string, kind: string, id: string): Promise<DocumentRecord | undefined> {
    this.checkOpen();
    const d = this.documents.get(docKey(tenant, kind, id));
    return d === undefined ? undefined : { ...d };
  }

  async listDocuments(kind: string, tenant?: string): Promise<DocumentRecord[]> {
    this.checkOpen();
    return [...this.documents.values()]
      .filter((d) => d.kind === kind && (tenant === undefined || d.tenant === tenant))
      .sort((a, b) => cmp(a.tenant, b.tenant) || cmp(a.id, b.id))
      .map((d) => ({ ...d }));
  }

  async deleteDocument(tenant: string, kind: string, id: string): Promise<boolean> {
    this.checkOpen();
    return this.documents.delete(docKey(tenant, kind, id));
  }
}

function docKey(tenant: string, kind: string, id: string): string {
  return `${kind}\0${tenant}\0${id}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The span ids of p that a selector keeps (by id, or by trace id); empty when p has no spans. */
function selectedSpans(p: StoredProfile, sel: SpanSelector): Set<bigint> {
  const keep = new Set<bigint>();
  if (p.spans === undefined) return keep;
  const ids = new Set(sel.spanIds);
  const traces = new Set(sel.traceIds);
  for (const r of p.spans)
    if (ids.has(r.spanId) || (r.traceId !== '' && traces.has(r.traceId))) keep.add(r.spanId);
  return keep;
}

function sortedUnique(xs: string[]): string[] {
  return [...new Set(xs)].sort(cmp);
}

/** Opens an empty in-memory store (not durable: everything is lost when the process exits). */
export async function openMemoryStore(): Promise<Store> {
  const store = new MemoryStore();
  await store.init();
  return store;
}
