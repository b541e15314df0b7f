// The scale-out Store: all state in ClickHouse (one node, or a cluster through Distributed tables), so
// Hotpath server replicas are stateless and never coordinate (ids are content hashes; schema in
// clickhouse/schema.ts, wire in clickhouse/http.ts).
//
// Writes: ClickHouse wants few large inserts. The write path already group-commits (one append per
// --commit-interval, 200 ms by default; 1000 ms suits ClickHouse), and this store adds its own
// per-replica buffer: appends that arrive while an insert is in flight go together in the next one,
// which starts when the buffer holds `maxBufferedSamples` samples or `flushIntervalMs` after the
// previous flush began (default 0: right after it returned, so a serial caller is never delayed).
// `append` resolves only after the flush holding its batch was acknowledged by ClickHouse, and rejects
// (503) when it was not. Dictionary entries this replica already wrote are not sent again.
// Reads: series are resolved in JS over the (small) series table with the selector module's matchers,
// then ClickHouse sums samples per stack id (mergeStacks) and profile totals per step and group
// (timeSeries); results stream back as RowBinary / JSONEachRow. No query reads a whole table into Node.

import { formatLabels, functionId, getLabel, type Labels } from '@hotpath/core';
import { HotpathError } from '../errors.ts';
import { storeErrors } from './errors.ts';
import { compileMatchers, compileSelectors, lookupOf } from './match.ts';
import { filtersStacks, StackMatcher } from './stack-filter.ts';
import {
  ClickHouseHttp,
  sqlIdentifier,
  sqlIdList,
  sqlString,
  type Settings,
  type SqlClient,
} from './clickhouse/http.ts';
import {
  alignedConcat,
  encodeString,
  encodeU64,
  RowBinaryWriter,
  splitIdValueRows,
} from './clickhouse/rowbinary.ts';
import {
  createdObject,
  MIGRATIONS,
  ROLLUP_MS,
  schemaVersionsTable,
  type Layout,
} from './clickhouse/schema.ts';
import type {
  ApiKeyRecord,
  ApiKeyScope,
  DocumentRecord,
  FunctionRecord,
  MergedStacks,
  ProfileQuery,
  ProfileStats,
  SeriesPoints,
  SeriesQuery,
  SpanExemplar,
  SpanQuery,
  SpanSelector,
  SpanSummary,
  StackFilter,
  StackRecord,
  Store,
  TimeSeriesQuery,
  WriteBatch,
} from './types.ts';

export interface ClickHouseStoreOptions {
  /** HTTP interface of a ClickHouse node, e.g. http://127.0.0.1:8123. */
  readonly url: string;
  /** Cluster name from the node's remote_servers: tables become Distributed over `<table>_local`. */
  readonly cluster?: string;
  /** Default 'hotpath'; created when missing. */
  readonly database?: string;
  /**
   * Minimum ms between the starts of two flushes of this replica's buffer; default 0 (appends that
   * arrive during an insert still go together). A value above the write path's commit interval
   * throttles its serial group commits, so leave it 0 behind the server's committer.
   */
  readonly flushIntervalMs?: number;
  /** A flush starts at once when this many samples are buffered; default 500,000 (below ClickHouse's 1,048,576-row insert block, so a flush is one block). */
  readonly maxBufferedSamples?: number;
  /** Distinct sampled stacks a stack-filtered time series may walk; default MAX_FILTER_STACKS. */
  readonly maxFilterStacks?: number;
  /** ms one ClickHouse request may take before it fails with 503; default 60,000. */
  readonly timeoutMs?: number;
  /** Runs the SQL through this client instead of HTTP to `url` (tests check the SQL on chdb). */
  readonly client?: SqlClient;
}

/** Series id: a content hash of (tenant, canonical label text), the same in every replica and backend. */
export function seriesIdOf(tenant: string, labels: Labels): bigint {
  return functionId(tenant, formatLabels(labels));
}

/** Opens and initialises (creates or migrates the schema of) a ClickHouse store. */
export async function openClickHouseStore(opts: {
  url: string;
  cluster?: string;
  database?: string;
  flushIntervalMs?: number;
}): Promise<Store> {
  const store = new ClickHouseStore(opts);
  await store.init();
  return store;
}

/** Appends waiting for the same flush. */
interface Pending {
  readonly batches: WriteBatch[];
  samples: number;
  readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

interface SeriesRow {
  readonly id: bigint;
  readonly labels: Labels;
}

/** Bound of the per-replica sets of ids already written (content-hashed ids never go stale). */
const CACHE_LIMIT = 1_000_000;
/** Ids per `IN (...)` list; the query text then stays below ~1.2 MB. */
const IDS_PER_QUERY = 50_000;
/**
 * Distinct stacks a function-filtered time series may sample: their paths are walked in this
 * process (ClickHouse 18.16 has no recursive CTE), and the matching ids travel back as an IN list.
 */
const MAX_FILTER_STACKS = 1_000_000;
/** Settings for queries carrying long id lists (18.16's defaults: 256 KiB of query, 50,000 AST nodes). */
const LIST_SETTINGS: Settings = {
  max_query_size: 64 * 1024 * 1024,
  max_ast_elements: 10_000_000,
  max_expanded_ast_elements: 10_000_000,
};

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse';
  readonly database: string;
  private readonly http: SqlClient;
  private readonly cluster: string | undefined;
  private layout: Layout = { kind: 'single' };
  private readonly flushIntervalMs: number;
  private readonly maxBufferedSamples: number;
  private readonly maxFilterStacks: number;

  private pending: Pending | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastFlushStartMs = -Infinity;
  private closed = false;
  private initialised = false;
  /** Flushes that reached ClickHouse (successful or not): one insert per table each. */
  flushes = 0;

  /** Ids this replica has written: not sent again (a bounded set; forgetting only costs a rewrite). */
  private readonly writtenFunctions = new Set<bigint>();
  private readonly writtenStacks = new Set<bigint>();
  private readonly writtenSeries = new Set<bigint>();
  private readonly seriesIds = new Map<string, bigint>();

  constructor(opts: ClickHouseStoreOptions) {
    this.http = opts.client ?? new ClickHouseHttp({ url: opts.url, timeoutMs: opts.timeoutMs });
    this.database = sqlIdentifier(opts.database ?? 'hotpath', 'database name');
    this.cluster =
      opts.cluster === undefined || opts.cluster === ''
        ? undefined
        : sqlIdentifier(opts.cluster, 'cluster name');
    this.flushIntervalMs = opts.flushIntervalMs ?? 0;
    this.maxBufferedSamples = opts.maxBufferedSamples ?? 500_000;
    this.maxFilterStacks = opts.maxFilterStacks ?? MAX_FILTER_STACKS;
  }

  get url(): string {
    return this.http.url;
  }

  private t(table: string): string {
    return `${this.database}.${table}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Schema

  async init(): Promise<void> {
    if (this.initialised) return;
    await this.http.ping();
    const db = this.database;
    if (this.cluster !== undefined) {
      const known = await this.http.jsonRows<{ n: string }>(
        `SELECT count() AS n FROM system.clusters WHERE cluster = ${sqlString(this.cluster)}`,
      );
      if (Number(known[0]?.n ?? 0) === 0) {
        throw storeErrors.clickhouseClusterUnknown(this.url, this.cluster);
      }
      const onCluster = await this.hasZooKeeper();
      const macros = onCluster
        ? (await this.http.jsonRows<{ macro: string }>('SELECT macro FROM system.macros')).map((m) => m.macro)
        : [];
      const replicated = macros.includes('shard') && macros.includes('replica');
      this.layout = { kind: 'cluster', cluster: this.cluster, onCluster, replicated };
    }
    const on =
      this.layout.kind === 'cluster' && this.layout.onCluster ? ` ON CLUSTER ${this.layout.cluster}` : '';
    const dbs = await this.http.jsonRows<{ n: string }>(
      `SELECT count() AS n FROM system.databases WHERE name = ${sqlString(db)}`,
    );
    if (Number(dbs[0]?.n ?? 0) === 0) await this.http.exec(`CREATE DATABASE IF NOT EXISTS ${db}${on}`);
    await this.http.exec(schemaVersionsTable(db));
    const rows = await this.http.jsonRows<{ v: number | string }>(
      `SELECT max(version) AS v FROM ${db}.schema_versions`,
    );
    const current = Number(rows[0]?.v ?? 0);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      // Objects this node already has are skipped: in a cluster another replica may have created
      // them ON CLUSTER, and repeating ON CLUSTER DDL would wait for every node, also a dead one.
      const existing = new Set(
        (
          await this.http.jsonRows<{ name: string }>(
            `SELECT name FROM system.tables WHERE database = ${sqlString(db)}`,
          )
        ).map((r) => r.name),
      );
      for (const sql of m.statements(db, this.layout)) {
        const name = createdObject(sql);
        if (name !== null && existing.has(name)) continue;
        await this.http.exec(sql);
      }
      await this.http.exec(`INSERT INTO ${db}.schema_versions VALUES (${m.version}, ${Date.now()})`);
    }
    this.initialised = true;
  }

  /**
   * Distributed DDL (ON CLUSTER) and Replicated* tables need ZooKeeper; without it each node is
   * migrated by a replica pointed at it and its tables are not replicated.
   */
  private async hasZooKeeper(): Promise<boolean> {
    try {
      await this.http.exec(`SELECT count() FROM system.zookeeper WHERE path = '/'`);
      return true;
    } catch (e) {
      if (e instanceof HotpathError && e.code === 'store_error') return false;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flushNow();
    } finally {
      this.http.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Write path

  append(batch: WriteBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ClickHouse store is closed'));
    let samples = 0;
    for (const p of batch.profiles) samples += p.stackIds.length;
    return new Promise<void>((resolve, reject) => {
      if (this.pending === null) this.pending = { batches: [], samples: 0, waiters: [] };
      this.pending.batches.push(batch);
      this.pending.samples += samples;
      this.pending.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Starts a flush when the buffer is full or the interval since the last flush has passed. */
  private schedule(): void {
    if (this.pending === null || this.flushing !== null) return;
    const dueInMs = this.lastFlushStartMs + this.flushIntervalMs - Date.now();
    if (this.pending.samples >= this.maxBufferedSamples || dueInMs <= 0) {
      void this.flushNow();
    } else if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        void this.flushNow();
      }, dueInMs);
    }
  }

  /** Flushes what is buffered (and what arrives meanwhile, when due); resolves when idle. */
  private async flushNow(): Promise<void> {
    if (this.flushing !== null) return this.flushing.then(() => (this.closed ? this.flushNow() : undefined));
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.lastFlushStartMs = Date.now();
    this.flushes++;
    this.flushing = this.insert(p.batches).then(
      () => {
        for (const w of p.waiters) w.resolve();
      },
      (e: unknown) => {
        for (const w of p.waiters) w.reject(e);
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
      if (this.closed) await this.flushNow();
      else this.schedule();
    }
  }

  private async insert(batches: readonly WriteBatch[]): Promise<void> {
    // In a cluster: acknowledge only once every shard concerned has the rows, and no block
    // deduplication by Replicated* tables (two pushes may carry identical profile rows).
    const settings: Settings =
      this.layout.kind === 'cluster' ? { insert_distributed_sync: 1, insert_deduplicate: 0 } : {};

    const functions = new RowBinaryWriter();
    const newFunctions: bigint[] = [];
    const stacks = new RowBinaryWriter();
    const newStacks: bigint[] = [];
    for (const b of batches) {
      for (const f of b.functions) {
        if (this.writtenFunctions.has(f.id)) continue;
        this.writtenFunctions.add(f.id); // undone below when the insert fails
        newFunctions.push(f.id);
        functions.u64(f.id);
        functions.string(f.name);
        functions.string(f.file);
      }
      for (const s of b.stacks) {
        if (this.writtenStacks.has(s.id)) continue;
        this.writtenStacks.add(s.id);
        newStacks.push(s.id);
        stacks.u64(s.id);
        stacks.u64(s.parentId);
        stacks.u64(s.functionId);
      }
    }

    const series = new RowBinaryWriter();
    const newSeries: bigint[] = [];
    const profiles = new RowBinaryWriter();
    const samples = new RowBinaryWriter(1 << 20);
    const spanSamples = new RowBinaryWriter();
    const spans = new RowBinaryWriter();
    for (const b of batches) {
      for (const p of b.profiles) {
        const key = `${p.tenant}\n${formatLabels(p.labels)}`;
        let id = this.seriesIds.get(key);
        if (id === undefined) {
          id = seriesIdOf(p.tenant, p.labels);
          if (this.seriesIds.size >= CACHE_LIMIT) this.seriesIds.clear();
          this.seriesIds.set(key, id);
        }
        if (!this.writtenSeries.has(id)) {
          this.writtenSeries.add(id);
          newSeries.push(id);
          series.string(p.tenant);
          series.u64(id);
          series.string(getLabel(p.labels, '__profile_type__') ?? '');
          series.varUInt(p.labels.length);
          for (const l of p.labels) series.string(l.name);
          series.varUInt(p.labels.length);
          for (const l of p.labels) series.string(l.value);
        }
        const tenant = encodeString(p.tenant);
        const seriesId = encodeU64(id);
        const time = new Uint8Array(8);
        new DataView(time.buffer).setBigInt64(0, BigInt(p.timeMs), true);
        let total = 0;
        const n = p.stackIds.length;
        const halves = new Uint32Array(p.stackIds.buffer, p.stackIds.byteOffset, n * 2);
        for (let i = 0; i < n; i++) {
          samples.bytes(seriesId);
          samples.bytes(time);
          samples.u64Halves(halves[2 * i]!, halves[2 * i + 1]!);
          samples.f64(p.values[i]!);
          total += p.values[i]!;
        }
        profiles.bytes(tenant);
        profiles.bytes(seriesId);
        profiles.bytes(time);
        profiles.f64(total);
        profiles.u32(n);
        const spanIds = p.spanIds;
        if (spanIds === undefined) continue;
        for (let i = 0; i < n; i++) {
          if (spanIds[i] === 0n) continue;
          spanSamples.bytes(seriesId);
          spanSamples.bytes(time);
          spanSamples.u64(spanIds[i]!);
          spanSamples.u64Halves(halves[2 * i]!, halves[2 * i + 1]!);
          spanSamples.f64(p.values[i]!);
        }
        for (const sp of p.spans ?? []) {
          spans.bytes(tenant);
          spans.bytes(seriesId);
          spans.bytes(time);
          spans.u64(sp.spanId);
          spans.string(sp.name);
          spans.string(sp.traceId);
          spans.f64(sp.total);
          spans.u32(sp.samples);
        }
      }
    }

    try {
      // Dictionaries first: a query that sees a sample can always resolve its stack.
      if (functions.length > 0)
        await this.http.insert(this.t('functions'), 'RowBinary', functions.finish(), settings);
      if (stacks.length > 0) await this.http.insert(this.t('stacks'), 'RowBinary', stacks.finish(), settings);
      if (series.length > 0) await this.http.insert(this.t('series'), 'RowBinary', series.finish(), settings);
      if (profiles.length > 0)
        await this.http.insert(this.t('profiles'), 'RowBinary', profiles.finish(), settings);
      if (samples.length > 0)
        await this.http.insert(this.t('samples'), 'RowBinary', samples.finish(), settings);
      if (spans.length > 0) await this.http.insert(this.t('spans'), 'RowBinary', spans.finish(), settings);
      if (spanSamples.length > 0)
        await this.http.insert(this.t('span_samples'), 'RowBinary', spanSamples.finish(), settings);
    } catch (e) {
      for (const id of newFunctions) this.writtenFunctions.delete(id);
      for (const id of newStacks) this.writtenStacks.delete(id);
      for (const id of newSeries) this.writtenSeries.delete(id);
      throw e;
    }
    for (const set of [this.writtenFunctions, this.writtenStacks, this.writtenSeries])
      if (set.size > CACHE_LIMIT) set.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Series selection (label matching in JS, like every backend: selector.ts semantics)

  private checkOpen(): void {
    if (this.closed) throw new Error('ClickHouse store is closed');
  }

  /** Series of a tenant, optionally of one profile type and/or having profiles in a time range. */
  private async loadSeries(
    tenant: string,
    profileType: string | null,
    range: { startMs: number; endMs: number } | null,
  ): Promise<SeriesRow[]> {
    this.checkOpen();
    let where = `tenant = ${sqlString(tenant)}`;
    if (profileType !== null) where += ` AND profile_type = ${sqlString(profileType)}`;
    if (range !== null) {
      where += ` AND series_id GLOBAL IN (SELECT series_id FROM ${this.t('profiles')} WHERE tenant = ${sqlString(tenant)} AND ${timeFilter(range)})`;
    }
    // 64-bit ids as strings: JSON numbers lose precision, and newer ClickHouse no longer quotes them.
    // (Aliases differ from column names: 18.16 resolves a WHERE column to a same-named alias.)
    const rows = await this.http.jsonRows<{ sid: string; label_names: string[]; label_values: string[] }>(
      `SELECT DISTINCT toString(series_id) AS sid, label_names, label_values FROM ${this.t('series')} WHERE ${where}`,
    );
    return rows.map((r) => ({
      id: BigInt(r.sid),
      labels: r.label_names.map((name, i) => ({ name, value: r.label_values[i] ?? '' })),
    }));
  }

  private async selectedSeries(q: SeriesQuery): Promise<SeriesRow[]> {
    const match = compileSelectors(q.selectors);
    const all = await this.loadSeries(q.tenant, null, q);
    return all.filter((s) => match(lookupOf(s.labels)));
  }

  private async profileSeries(q: ProfileQuery): Promise<SeriesRow[]> {
    const match = compileMatchers(q.matchers);
    const all = await this.loadSeries(q.tenant, q.profileTypeId, null);
    return all.filter((s) => match(lookupOf(s.labels)));
  }

  async profileTypes(q: SeriesQuery): Promise<string[]> {
    return sortedUnique(
      (await this.selectedSeries(q))
        .map((s) => getLabel(s.labels, '__profile_type__') ?? '')
        .filter((t) => t !== ''),
    );
  }

  async labelNames(q: SeriesQuery): Promise<string[]> {
    return sortedUnique((await this.selectedSeries(q)).flatMap((s) => s.labels.map((l) => l.name)));
  }

  async labelValues(q: SeriesQuery & { readonly name: string }): Promise<string[]> {
    const values: string[] = [];
    for (const s of await this.selectedSeries(q)) {
      const v = getLabel(s.labels, q.name);
      if (v !== undefined) values.push(v);
    }
    return sortedUnique(values);
  }

  async series(q: SeriesQuery): Promise<Labels[]> {
    const texts = new Map<string, Labels>();
    for (const s of await this.selectedSeries(q)) texts.set(formatLabels(s.labels), s.labels);
    return [...texts.keys()].sort(cmp).map((k) => texts.get(k)!);
  }

  // ---------------------------------------------------------------------------------------------
  // Aggregations in the engine

  async mergeStacks(q: ProfileQuery): Promise<MergedStacks> {
    const series = await this.profileSeries(q);
    if (series.length === 0) return { stackIds: new BigUint64Array(0), values: new Float64Array(0) };
    const ids = sqlIdList(series.map((s) => s.id));
    const start = Math.floor(q.startMs);
    const end = Math.floor(q.endMs);
    // Whole hours [h0, h1) inside the range come from the rollup, the ragged ends from raw samples.
    const h0 = Math.ceil(start / ROLLUP_MS) * ROLLUP_MS;
    const h1 = Math.floor((end + 1) / ROLLUP_MS) * ROLLUP_MS;
    let sql: string;
    if (q.spans !== undefined) {
      sql = `SELECT stack_id, sum(value) AS total FROM ${this.t('span_samples')}
        WHERE series_id IN (${ids}) AND ${timeFilter(q)} AND ${this.spanFilter(q.tenant, q.spans, ids, q)}
        GROUP BY stack_id HAVING total != 0 FORMAT RowBinary`;
    } else if (h1 - h0 >= 2 * ROLLUP_MS) {
      // Each branch aggregates first, so in a cluster every shard sends sums, not rows.
      const raw = `SELECT stack_id, sum(value) AS v FROM ${this.t('samples')}
        WHERE series_id IN (${ids}) AND ((time_ms >= ${start} AND time_ms < ${h0}) OR (time_ms >= ${h1} AND time_ms <= ${end})) GROUP BY stack_id`;
      const rolled = `SELECT stack_id, sum(value) AS v FROM ${this.t('samples_1h')}
        WHERE series_id IN (${ids}) AND hour_ms >= ${h0} AND hour_ms < ${h1} GROUP BY stack_id`;
      sql = `SELECT stack_id, sum(v) AS total FROM (${raw} UNION ALL ${rolled}) GROUP BY stack_id HAVING total != 0 FORMAT RowBinary`;
    } else {
      sql = `SELECT stack_id, sum(value) AS total FROM ${this.t('samples')}
        WHERE series_id IN (${ids}) AND ${timeFilter(q)} GROUP BY stack_id HAVING total != 0 FORMAT RowBinary`;
    }
    const chunks: Buffer[] = [];
    await this.http.stream(sql, (c) => chunks.push(c), LIST_SETTINGS);
    const bytes = alignedConcat(chunks);
    if (bytes.length % 16 !== 0) {
      throw storeErrors.storeError(
        `ClickHouse at ${this.url} returned a truncated result: ${tailText(bytes)}`,
      );
    }
    const merged = splitIdValueRows(bytes, bytes.length / 16);
    return { stackIds: merged.ids, values: merged.values };
  }

  /** The condition on span_id of a selector: listed spans, or spans of listed traces (from `spans`). */
  private spanFilter(tenant: string, sel: SpanSelector, ids: string, range: ProfileQuery): string {
    const parts: string[] = [];
    if (sel.spanIds.length > 0)
      parts.push(`span_id IN (${sel.spanIds.map((id) => BigInt.asUintN(64, id)).join(',')})`);
    if (sel.traceIds.length > 0)
      parts.push(`span_id GLOBAL IN (SELECT span_id FROM ${this.t('spans')} WHERE tenant = ${sqlString(tenant)}
        AND series_id IN (${ids}) AND ${timeFilter(range)} AND trace_id IN (${sel.traceIds.map(sqlString).join(',')}))`);
    return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
  }

  async spans(q: SpanQuery): Promise<SpanSummary[]> {
    const series = await this.profileSeries(q);
    if (series.length === 0 || !(q.limit > 0)) return [];
    const rows = await this.http.jsonRows<{
      sid: string;
      nm: string;
      tr: string;
      tt: number;
      n: string | number;
      f: string | number;
      l: string | number;
    }>(
      `SELECT toString(span_id) AS sid, max(name) AS nm, max(trace_id) AS tr, sum(total) AS tt, sum(samples) AS n,
         min(time_ms) AS f, max(time_ms) AS l FROM ${this.t('spans')}
       WHERE tenant = ${sqlString(q.tenant)} AND series_id IN (${sqlIdList(series.map((s) => s.id))}) AND ${timeFilter(q)}
       GROUP BY span_id ORDER BY tt DESC, span_id LIMIT ${Math.trunc(q.limit)}`,
      LIST_SETTINGS,
    );
    return rows.map((r) => ({
      spanId: BigInt(r.sid),
      name: r.nm,
      traceId: r.tr,
      total: Number(r.tt),
      samples: Number(r.n),
      firstMs: Number(r.f),
      lastMs: Number(r.l),
    }));
  }

  async spanExemplars(q: TimeSeriesQuery): Promise<SpanExemplar[]> {
    if (!(q.stepMs > 0)) throw storeErrors.invalidStep(q.stepMs);
    const series = await this.profileSeries(q);
    if (series.length === 0) return [];
    const labelsOf = new Map(series.map((s) => [s.id, s.labels]));
    const start = Math.floor(q.startMs);
    const step = Math.max(1, Math.trunc(q.stepMs));
    const rows = await this.http.jsonRows<{
      sid: string;
      k: string | number;
      tm: string | number;
      spid: string;
      nm: string;
      tr: string;
      tt: number;
    }>(
      `SELECT toString(series_id) AS sid, intDiv(time_ms - ${start}, ${step}) AS k, time_ms AS tm,
         toString(span_id) AS spid, name AS nm, trace_id AS tr, total AS tt FROM ${this.t('spans')}
       WHERE tenant = ${sqlString(q.tenant)} AND series_id IN (${sqlIdList(series.map((s) => s.id))}) AND ${timeFilter(q)}
       ORDER BY series_id, k, total DESC, span_id LIMIT 1 BY series_id, k`,
      LIST_SETTINGS,
    );
    return rows.map((r) => ({
      labels: labelsOf.get(BigInt(r.sid)) ?? [],
      timestampMs: start + Number(r.k) * step,
      timeMs: Number(r.tm),
      spanId: BigInt(r.spid),
      name: r.nm,
      traceId: r.tr,
      total: Number(r.tt),
    }));
  }

  async timeSeries(q: TimeSeriesQuery): Promise<SeriesPoints[]> {
    if (!(q.stepMs > 0)) throw storeErrors.invalidStep(q.stepMs, 'timeSeries step');
    const series = await this.profileSeries(q);
    if (series.length === 0) return [];
    // Group index per series, computed here; ClickHouse maps series_id → group with transform().
    const groups: Labels[] = [];
    const groupOf = new Map<string, number>();
    const seriesGroup: number[] = [];
    for (const s of series) {
      const labels: Labels = q.groupBy
        .map((name) => ({ name, value: getLabel(s.labels, name) }))
        .filter((l): l is { name: string; value: string } => l.value !== undefined)
        .sort((a, b) => cmp(a.name, b.name));
      const key = formatLabels(labels);
      let g = groupOf.get(key);
      if (g === undefined) {
        g = groups.length;
        groups.push(labels);
        groupOf.set(key, g);
      }
      seriesGroup.push(g);
    }
    const step = Math.floor(q.stepMs);
    // Bucket k covers [start + k·step, start + (k+1)·step) (conformance.ts); avg = sum / profiles.
    const rows = await this.http.jsonRows<{
      g: number | string;
      k: number | string;
      total: number;
      n: number | string;
    }>(
      `SELECT transform(series_id, [${sqlIdList(series.map((s) => s.id))}], [${seriesGroup.join(',')}], toUInt32(0)) AS g,
              intDiv(time_ms - ${Math.floor(q.startMs)}, ${step}) AS k, sum(total) AS total, count() AS n
       FROM ${this.t('profiles')}
       WHERE tenant = ${sqlString(q.tenant)} AND ${timeFilter(q)} AND series_id IN (${sqlIdList(series.map((s) => s.id))})
       GROUP BY g, k ORDER BY g, k`,
      LIST_SETTINGS,
    );
    // With a stack filter the sums come from the matching samples; the profiles still give each
    // bucket's profile count, the divisor of avg.
    let filtered: Map<string, number> | undefined;
    if (filtersStacks(q.stacks)) {
      const keep = await this.matchingStacks(q, series, q.stacks);
      if (keep.length === 0) return [];
      filtered = new Map();
      for (const r of await this.http.jsonRows<{ g: number | string; k: number | string; total: number }>(
        `SELECT transform(series_id, [${sqlIdList(series.map((s) => s.id))}], [${seriesGroup.join(',')}], toUInt32(0)) AS g,
                intDiv(time_ms - ${Math.floor(q.startMs)}, ${step}) AS k, sum(value) AS total
         FROM ${this.t('samples')}
         WHERE series_id IN (${sqlIdList(series.map((s) => s.id))}) AND ${timeFilter(q)} AND stack_id IN (${sqlIdList(keep)})
         GROUP BY g, k`,
        LIST_SETTINGS,
      ))
        filtered.set(`${r.g}:${r.k}`, Number(r.total));
    }
    const byGroup = new Map<number, { t: number[]; v: number[] }>();
    for (const r of rows) {
      const total = filtered === undefined ? r.total : filtered.get(`${r.g}:${r.k}`);
      if (total === undefined) continue;
      const g = Number(r.g);
      let acc = byGroup.get(g);
      if (acc === undefined) {
        acc = { t: [], v: [] };
        byGroup.set(g, acc);
      }
      acc.t.push(q.startMs + Number(r.k) * step);
      acc.v.push(q.aggregation === 'avg' ? total / Number(r.n) : total);
    }
    const out: SeriesPoints[] = [];
    for (const [g, acc] of byGroup) {
      out.push({
        labels: groups[g]!,
        timestampsMs: Float64Array.from(acc.t),
        values: Float64Array.from(acc.v),
      });
    }
    return out.sort((a, b) => cmp(formatLabels(a.labels), formatLabels(b.labels)));
  }

  /**
   * The stacks sampled by the selection in range that pass the filter. ClickHouse 18.16 has no
   * recursive CTE, so the paths are read here: the sampled stack ids (at most maxFilterStacks),
   * then their ancestors one level per round, then the names of their functions.
   */
  private async matchingStacks(
    q: TimeSeriesQuery,
    series: readonly SeriesRow[],
    f: StackFilter,
  ): Promise<bigint[]> {
    if (f.functionName !== undefined) {
      const known = await this.http.jsonRows<{ n: string | number }>(
        `SELECT count() AS n FROM ${this.t('functions')} WHERE name = ${sqlString(f.functionName)}`,
      );
      if (Number(known[0]?.n ?? 0) === 0) return [];
    }
    const chunks: Buffer[] = [];
    await this.http.stream(
      `SELECT DISTINCT stack_id FROM ${this.t('samples')}
       WHERE series_id IN (${sqlIdList(series.map((s) => s.id))}) AND ${timeFilter(q)}
       LIMIT ${this.maxFilterStacks + 1} FORMAT RowBinary`,
      (c) => chunks.push(c),
      LIST_SETTINGS,
    );
    const bytes = Buffer.concat(chunks);
    const sampled: bigint[] = [];
    for (let at = 0; at + 8 <= bytes.length; at += 8) sampled.push(bytes.readBigUInt64LE(at));
    if (sampled.length > this.maxFilterStacks)
      throw storeErrors.stackFilterTooLarge(this.maxFilterStacks, sampled.length);
    const stacks = new Map<bigint, StackRecord>();
    for (let wanted = sampled; wanted.length > 0;) {
      const parents = new Set<bigint>();
      for (const s of (await this.getStacks(wanted)).values()) {
        stacks.set(s.id, s);
        if (s.parentId !== 0n) parents.add(s.parentId);
      }
      wanted = [...parents].filter((id) => !stacks.has(id));
    }
    const functions = await this.getFunctions([...new Set([...stacks.values()].map((s) => s.functionId))]);
    const matcher = new StackMatcher(
      f,
      (id) => stacks.get(id),
      (id) => functions.get(id)?.name,
    );
    return sampled.filter((id) => matcher.matches(id));
  }

  // ---------------------------------------------------------------------------------------------
  // Dictionaries

  // Not cached here: the read path keeps its own stack resolver cache (query/readpath.ts).
  async getStacks(ids: readonly bigint[]): Promise<Map<bigint, StackRecord>> {
    this.checkOpen();
    const out = new Map<bigint, StackRecord>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
      const chunks: Buffer[] = [];
      await this.http.stream(
        `SELECT id, parent_id, function_id FROM ${this.t('stacks')} WHERE id IN (${sqlIdList(unique.slice(i, i + IDS_PER_QUERY))}) FORMAT RowBinary`,
        (c) => chunks.push(c),
        LIST_SETTINGS,
      );
      const bytes = Buffer.concat(chunks);
      if (bytes.length % 24 !== 0) {
        throw storeErrors.storeError(
          `ClickHouse at ${this.url} returned a truncated result: ${tailText(bytes)}`,
        );
      }
      for (let at = 0; at < bytes.length; at += 24) {
        const s: StackRecord = {
          id: bytes.readBigUInt64LE(at),
          parentId: bytes.readBigUInt64LE(at + 8),
          functionId: bytes.readBigUInt64LE(at + 16),
        };
        out.set(s.id, s);
      }
    }
    return out;
  }

  async getFunctions(ids: readonly bigint[]): Promise<Map<bigint, FunctionRecord>> {
    this.checkOpen();
    const out = new Map<bigint, FunctionRecord>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
      const rows = await this.http.jsonRows<{ fid: string; name: string; file: string }>(
        `SELECT DISTINCT toString(id) AS fid, name, file FROM ${this.t('functions')} WHERE id IN (${sqlIdList(unique.slice(i, i + IDS_PER_QUERY))})`,
        LIST_SETTINGS,
      );
      for (const r of rows) out.set(BigInt(r.fid), { id: BigInt(r.fid), name: r.name, file: r.file });
    }
    return out;
  }

  async stats(tenant: string): Promise<ProfileStats> {
    this.checkOpen();
    const rows = await this.http.jsonRows<{ n: string; oldest: string; newest: string }>(
      `SELECT count() AS n, min(time_ms) AS oldest, max(time_ms) AS newest FROM ${this.t('profiles')} WHERE tenant = ${sqlString(tenant)}`,
    );
    const r = rows[0];
    if (r === undefined || Number(r.n) === 0)
      return { dataIngested: false, oldestProfileTimeMs: 0, newestProfileTimeMs: 0 };
    return {
      dataIngested: true,
      oldestProfileTimeMs: Number(r.oldest),
      newestProfileTimeMs: Number(r.newest),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // API keys: a row per key and one more per revocation (schema.ts v2), folded by id when read.

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    this.checkOpen();
    await this.http.exec(`INSERT INTO ${this.t('api_keys')} VALUES ${apiKeyValues(key)}`);
  }

  async apiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return (await this.apiKeysWhere(`WHERE hash = ${sqlString(hash)}`))[0];
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.apiKeysWhere('');
  }

  async revokeApiKey(id: string, revokedMs: number): Promise<boolean> {
    const key = (await this.apiKeysWhere(`WHERE id = ${sqlString(id)}`))[0];
    if (key === undefined) return false;
    if (key.revokedMs === 0) {
      await this.http.exec(
        `INSERT INTO ${this.t('api_keys')} VALUES ${apiKeyValues({ ...key, revokedMs: Math.trunc(revokedMs) })}`,
      );
    }
    return true;
  }

  private async apiKeysWhere(where: string): Promise<ApiKeyRecord[]> {
    this.checkOpen();
    // Aliases differ from the column names: ClickHouse would otherwise read `where` against the aggregates.
    const rows = await this.http.jsonRows<Record<string, string | number>>(
      `SELECT id AS k_id, any(hash) AS k_hash, any(tenant) AS k_tenant, any(scope) AS k_scope,
              any(name) AS k_name, min(created_ms) AS k_created, minIf(revoked_ms, revoked_ms > 0) AS k_revoked
       FROM ${this.t('api_keys')} ${where} GROUP BY id ORDER BY k_created, k_id`,
    );
    return rows.map((r) => ({
      id: String(r.k_id),
      hash: String(r.k_hash),
      tenant: String(r.k_tenant),
      scope: String(r.k_scope) as ApiKeyScope,
      name: String(r.k_name),
      createdMs: Number(r.k_created),
      revokedMs: Number(r.k_revoked),
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Documents: each put or delete appends a row (schema.ts v3); the highest version per key wins.

  /** Version of this replica's last document row: ms·1000 plus a counter, so it only grows here. */
  private lastDocumentVersion = 0;

  async putDocument(doc: DocumentRecord): Promise<void> {
    this.checkOpen();
    await this.http.exec(`INSERT INTO ${this.t('documents')} VALUES ${this.documentRow(doc, false)}`);
  }

  async getDocument(tenant: string, kind: string, id: string): Promise<DocumentRecord | undefined> {
    return (
      await this.documentsWhere(kind, `AND tenant = ${sqlString(tenant)} AND id = ${sqlString(id)}`)
    )[0];
  }

  listDocuments(kind: string, tenant?: string): Promise<DocumentRecord[]> {
    return this.documentsWhere(kind, tenant === undefined ? '' : `AND tenant = ${sqlString(tenant)}`);
  }

  async deleteDocument(tenant: string, kind: string, id: string): Promise<boolean> {
    const doc = await this.getDocument(tenant, kind, id);
    if (doc === undefined) return false;
    await this.http.exec(`INSERT INTO ${this.t('documents')} VALUES ${this.documentRow(doc, true)}`);
    return true;
  }

  private documentRow(d: DocumentRecord, deleted: boolean): string {
    this.lastDocumentVersion = Math.max(Date.now() * 1000, this.lastDocumentVersion + 1);
    const text = [d.tenant, d.kind, d.id, deleted ? '' : d.body].map(sqlString).join(', ');
    return `(${text}, ${Math.trunc(d.updatedMs)}, ${this.lastDocumentVersion}, ${deleted ? 1 : 0})`;
  }

  private async documentsWhere(kind: string, and: string): Promise<DocumentRecord[]> {
    this.checkOpen();
    // Aliases differ from the column names so that HAVING and ORDER BY read the latest row's values.
    const rows = await this.http.jsonRows<Record<string, string | number>>(
      `SELECT tenant AS d_tenant, id AS d_id, argMax(body, version) AS d_body,
              argMax(updated_ms, version) AS d_updated, argMax(deleted, version) AS d_deleted
       FROM ${this.t('documents')} WHERE kind = ${sqlString(kind)} ${and}
       GROUP BY tenant, id HAVING d_deleted = 0 ORDER BY d_tenant, d_id`,
    );
    return rows.map((r) => ({
      tenant: String(r.d_tenant),
      kind,
      id: String(r.d_id),
      body: String(r.d_body),
      updatedMs: Number(r.d_updated),
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Retention

  /**
   * Drops the day partitions of samples, their rollup and profiles that end before `cutoffMs` (whole UTC days only).
   * In a cluster this drops on the node this store is connected to; run it against every node
   * (Distributed tables cannot drop partitions). Returns the day numbers dropped.
   */
  async dropDaysBefore(cutoffMs: number): Promise<number[]> {
    this.checkOpen();
    const lastDay = Math.floor(cutoffMs / 86_400_000) - 1;
    const suffix = this.layout.kind === 'cluster' ? '_local' : '';
    const dropped = new Set<number>();
    for (const table of ['samples', 'samples_1h', 'profiles', 'span_samples', 'spans']) {
      const rows = await this.http.jsonRows<{ partition: string }>(
        `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlString(this.database)} AND table = ${sqlString(table + suffix)} AND active`,
      );
      for (const r of rows) {
        const day = Number(r.partition);
        if (!Number.isInteger(day) || day > lastDay) continue;
        await this.http.exec(`ALTER TABLE ${this.t(table + suffix)} DROP PARTITION ${day}`);
        dropped.add(day);
      }
    }
    return [...dropped].sort((a, b) => a - b);
  }
}

function timeFilter(r: { startMs: number; endMs: number }): string {
  return `time_ms >= ${Math.floor(r.startMs)} AND time_ms <= ${Math.floor(r.endMs)}`;
}

function tailText(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(Math.max(0, bytes.length - 300)))
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedUnique(xs: string[]): string[] {
  return [...new Set(xs)].sort(cmp);
}

/** One `(...)` row of the api_keys table. */
function apiKeyValues(k: ApiKeyRecord): string {
  const text = [k.id, k.hash, k.tenant, k.scope, k.name].map(sqlString).join(', ');
  return `(${text}, ${Math.trunc(k.createdMs)}, ${Math.trunc(k.revokedMs)})`;
}
