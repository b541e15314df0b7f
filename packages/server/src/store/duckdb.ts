// The embedded Store: one DuckDB database file in the data directory (schema in schema.ts).
//
// Dictionaries (series, stacks, functions) are small next to the samples and are mirrored in memory:
// appends write only ids the store has not seen, label matching runs in JS over the cached series
// (the result is a list of series keys), and getStacks/getFunctions never touch SQL. The engine does
// the heavy part: summing samples per stack (mergeStacks) and profile totals per step (timeSeries).
// Writes are serialised on one connection, one transaction per append (a group commit); reads use a
// small pool of other connections and see only committed data.
// Hourly rollups: every few minutes the hours that ended are summed per (series, hour, stack) into
// samples_1h (schema.ts), and a merge reads whole rolled hours from there and only the ragged ends
// of its range (and hours that late samples made dirty) from the samples.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';
import { functionId, formatLabels, type Labels } from '@hotpath/core';
import { storeErrors } from './errors.ts';
import { compileSelectors, type LabelLookup } from './match.ts';
import { MIGRATIONS } from './schema.ts';
import { filtersStacks } from './stack-filter.ts';
import type {
  ApiKeyRecord,
  ApiKeyScope,
  DocumentRecord,
  FunctionRecord,
  MergedStacks,
  Matcher,
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

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Hours are rolled up this long after they end, so the samples of the last seconds are in. */
const ROLLUP_LAG_MS = 300_000;

export interface DuckDBStoreOptions {
  /** Directory holding the database file; created when missing. */
  readonly dataDir: string;
  /** Default 'hotpath.duckdb'. */
  readonly fileName?: string;
  /** How often ended hours are rolled up (ms); default 5 min, 0 = only by calling rollUp(). */
  readonly rollupEveryMs?: number;
}

/** Opens (and initialises) the embedded store. */
export async function openDuckDBStore(opts: DuckDBStoreOptions): Promise<DuckDBStore> {
  const store = new DuckDBStore(opts);
  await store.init();
  return store;
}

/** A series' labels as one flat array [name0, value0, name1, value1, ...] (sorted by name): ~1 KB less heap per series than objects plus a Map (B9). */
class FlatLabels implements LabelLookup {
  constructor(private readonly flat: readonly string[]) {}
  get(name: string): string | undefined {
    const f = this.flat;
    for (let i = 0; i < f.length; i += 2) if (f[i] === name) return f[i + 1];
    return undefined;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  names(): string[] {
    return this.flat.filter((_, i) => i % 2 === 0);
  }
  toLabels(): Labels {
    const out: { name: string; value: string }[] = [];
    for (let i = 0; i < this.flat.length; i += 2) out.push({ name: this.flat[i]!, value: this.flat[i + 1]! });
    return out;
  }
}

interface SeriesEntry {
  readonly key: number;
  readonly tenant: string;
  readonly id: bigint;
  readonly byName: FlatLabels;
  /** Oldest and newest profile time, ms; Infinity/-Infinity before the first profile. */
  minMs: number;
  maxMs: number;
}

/** Series id: a content hash of (tenant, canonical label text). */
export function seriesIdOf(tenant: string, labels: Labels): bigint {
  return functionId(tenant, formatLabels(labels));
}

/** A growable column of u64 values indexed by dense key. */
class U64Column {
  data = new BigUint64Array(1024);
  set(i: number, v: bigint): void {
    if (i >= this.data.length) {
      let size = this.data.length * 2;
      while (size <= i) size *= 2;
      const next = new BigUint64Array(size);
      next.set(this.data);
      this.data = next;
    }
    this.data[i] = v;
  }
}

function int(n: number, what: string): string {
  if (!Number.isFinite(n)) throw storeErrors.notFinite(what, n);
  return String(Math.trunc(n));
}

export class DuckDBStore implements Store {
  readonly kind = 'duckdb';
  readonly path: string;
  private instance: DuckDBInstance | undefined;
  private writer: DuckDBConnection | undefined;
  private readonly idleReaders: DuckDBConnection[] = [];
  private writeChain: Promise<unknown> = Promise.resolve();
  private initialised: Promise<void> | undefined;
  private closed = false;

  // In-memory mirrors of the dictionaries.
  private readonly seriesById = new Map<bigint, SeriesEntry>();
  private readonly seriesByTenant = new Map<string, SeriesEntry[]>();
  private readonly seriesByKey: SeriesEntry[] = [];
  private readonly stackKeyById = new Map<bigint, number>();
  private readonly stackIds = new U64Column();
  private readonly stackParents = new U64Column();
  private readonly stackFunctions = new U64Column();
  private stackCount = 0;
  private readonly functions = new Map<bigint, { name: string; file: string }>();

  /** The key the next (profile, span) row of `spans` gets (samples refer to it). */
  private nextSpanKey = 1;
  /** Every sample before this time (an hour boundary) is summed in samples_1h, but those of dirtyHours. */
  private rolledUntilMs = 0;
  /** Rolled hours that received late samples since they were summed (hour start ms). */
  private readonly dirtyHours = new Set<number>();
  private readonly rollupEveryMs: number;
  private rollupTimer: NodeJS.Timeout | undefined;
  /** The last failure of a scheduled rollup (retried at the next one), for diagnostics. */
  rollupError: unknown;
  /** Told of each scheduled rollup that fails (the server logs it). */
  onRollupError: ((e: unknown) => void) | undefined;

  constructor(opts: DuckDBStoreOptions) {
    this.path = join(opts.dataDir, opts.fileName ?? 'hotpath.duckdb');
    this.rollupEveryMs = opts.rollupEveryMs ?? 300_000;
    mkdirSync(opts.dataDir, { recursive: true });
  }

  init(): Promise<void> {
    this.initialised ??= this.doInit();
    return this.initialised;
  }

  private async doInit(): Promise<void> {
    this.instance = await DuckDBInstance.create(this.path);
    this.writer = await this.instance.connect();
    await this.migrate(this.writer);
    await this.load(this.writer);
    if (this.rollupEveryMs > 0) {
      const roll = (): void => {
        this.rollUp(Date.now()).then(
          () => (this.rollupError = undefined),
          (e: unknown) => {
            if (this.closed) return; // a step queued before close() finds the store closed: not a failure
            this.rollupError = e;
            this.onRollupError?.(e);
          },
        );
      };
      roll();
      this.rollupTimer = setInterval(roll, this.rollupEveryMs);
      this.rollupTimer.unref();
    }
  }

  private async migrate(c: DuckDBConnection): Promise<void> {
    await c.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const current = Number((await scalar(c, 'SELECT coalesce(max(version), 0) FROM schema_version')) ?? 0);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await inTransaction(c, async () => {
        for (const sql of m.sql) await c.run(sql);
        await c.run(`INSERT INTO schema_version VALUES (${m.version})`);
      });
    }
  }

  /** Fills the in-memory mirrors from the tables (on open). */
  private async load(c: DuckDBConnection): Promise<void> {
    this.rolledUntilMs = Number((await scalar(c, 'SELECT max(rolled_until_ms) FROM rollup_state')) ?? 0);
    this.nextSpanKey = Number((await scalar(c, 'SELECT coalesce(max(key), 0) + 1 FROM spans')) ?? 1);
    for (const h of await numbers(c, 'SELECT DISTINCT hour_ms FROM rollup_dirty')) this.dirtyHours.add(h);
    await forEachChunk(c, 'SELECT key, tenant, id, labels FROM series ORDER BY key', (chunk) => {
      const [keys, tenants, ids, labels] = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        const pairs = JSON.parse(labels!.getItem(r) as string) as [string, string][];
        this.addSeries({
          key: Number(keys!.getItem(r)),
          tenant: tenants!.getItem(r) as string,
          id: ids!.getItem(r) as bigint,
          byName: this.flatLabels(pairs.map(([name, value]) => ({ name, value }))),
          minMs: Infinity,
          maxMs: -Infinity,
        });
      }
    });
    await this.readBounds(c);
    await forEachChunk(c, 'SELECT key, id, parent_id, function_id FROM stacks ORDER BY key', (chunk) => {
      const [keys, ids, parents, fns] = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        const key = Number(keys!.getItem(r));
        const id = ids!.getItem(r) as bigint;
        this.stackKeyById.set(id, key);
        this.stackIds.set(key, id);
        this.stackParents.set(key, parents!.getItem(r) as bigint);
        this.stackFunctions.set(key, fns!.getItem(r) as bigint);
        this.stackCount = Math.max(this.stackCount, key + 1);
      }
    });
    await forEachChunk(c, 'SELECT id, name, file FROM functions', (chunk) => {
      const [ids, names, files] = [0, 1, 2].map((i) => chunk.getColumnVector(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        this.functions.set(ids!.getItem(r) as bigint, {
          name: names!.getItem(r) as string,
          file: files!.getItem(r) as string,
        });
      }
    });
  }

  /**
   * Sets the cached time bounds of these series (all when omitted, on open) from their profiles;
   * a series left without any gets empty bounds.
   */
  private async readBounds(c: DuckDBConnection, series?: readonly SeriesEntry[]): Promise<void> {
    if (series?.length === 0) return;
    for (const s of series ?? []) {
      s.minMs = Infinity;
      s.maxMs = -Infinity;
    }
    const where = series ? `WHERE series_key IN (${series.map((s) => s.key).join(',')})` : '';
    await forEachChunk(
      c,
      `SELECT series_key, min(time_ms), max(time_ms) FROM profiles ${where} GROUP BY series_key`,
      (chunk) => {
        const [keys, mins, maxs] = [0, 1, 2].map((i) => chunk.getColumnVector(i));
        for (let r = 0; r < chunk.rowCount; r++) {
          const s = this.seriesByKey[Number(keys!.getItem(r))];
          if (s === undefined) continue;
          s.minMs = Number(mins!.getItem(r));
          s.maxMs = Number(maxs!.getItem(r));
        }
      },
    );
  }

  /** Label names repeat across series: one string per distinct name. */
  private readonly namePool = new Map<string, string>();

  private flatLabels(labels: Labels): FlatLabels {
    const flat: string[] = [];
    for (const l of labels) {
      let name = this.namePool.get(l.name);
      if (name === undefined) this.namePool.set(l.name, (name = l.name));
      flat.push(name, l.value);
    }
    return new FlatLabels(flat);
  }

  private addSeries(s: SeriesEntry): void {
    this.seriesById.set(s.id, s);
    this.seriesByKey[s.key] = s;
    let list = this.seriesByTenant.get(s.tenant);
    if (list === undefined) this.seriesByTenant.set(s.tenant, (list = []));
    list.push(s);
  }

  /** Number of series the store knows (all tenants). */
  get seriesCount(): number {
    return this.seriesById.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.rollupTimer !== undefined) clearInterval(this.rollupTimer);
    if (this.initialised === undefined) return;
    await this.initialised.catch(() => undefined);
    await this.writeChain.catch(() => undefined);
    try {
      // A checkpoint moves the WAL into compressed blocks, so the file is compact after a clean stop.
      await this.writer?.run('CHECKPOINT');
    } finally {
      for (const r of this.idleReaders.splice(0)) r.closeSync();
      this.writer?.closeSync();
      this.instance?.closeSync();
    }
  }

  private ready(): DuckDBConnection {
    if (this.closed) throw storeErrors.storeClosed();
    if (this.writer === undefined) throw storeErrors.storeNotReady();
    return this.writer;
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  append(batch: WriteBatch): Promise<void> {
    return this.inWriteChain(() => this.appendNow(batch));
  }

  /** Runs fn after every write queued before it (appends, rollups, retention): one at a time. */
  private inWriteChain<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(batch: WriteBatch): Promise<void> {
    const c = this.ready();
    // Work out what is new first; the mirrors are updated only after the commit succeeds.
    const newFunctions = new Map<bigint, FunctionRecord>();
    for (const f of batch.functions) if (!this.functions.has(f.id)) newFunctions.set(f.id, f);
    const newStacks = new Map<bigint, { key: number; s: StackRecord }>();
    let nextStackKey = this.stackCount;
    for (const s of batch.stacks) {
      if (this.stackKeyById.has(s.id) || newStacks.has(s.id)) continue;
      newStacks.set(s.id, { key: nextStackKey++, s });
    }
    const stackKeyOf = (id: bigint): number => {
      const k = this.stackKeyById.get(id) ?? newStacks.get(id)?.key;
      if (k === undefined) throw storeErrors.unknownStack(id);
      return k;
    };
    const newSeries = new Map<bigint, SeriesEntry>();
    let nextSeriesKey = this.seriesByKey.length;
    const rows: {
      series: SeriesEntry;
      timeMs: number;
      keys: Uint32Array;
      values: Float64Array;
      /** Per row, the key of its (profile, span) row in `spans`, 0 without a span; undefined when the profile has none. */
      spanKeys: Uint32Array | undefined;
      spans: readonly { key: number; s: SpanRecord }[];
      total: number;
    }[] = [];
    let nextSpanKey = this.nextSpanKey;
    for (const p of batch.profiles) {
      const id = seriesIdOf(p.tenant, p.labels);
      let series = this.seriesById.get(id) ?? newSeries.get(id);
      if (series === undefined) {
        series = {
          key: nextSeriesKey++,
          tenant: p.tenant,
          id,
          byName: this.flatLabels(p.labels),
          minMs: Infinity,
          maxMs: -Infinity,
        };
        newSeries.set(id, series);
      }
      // Each (profile, span) gets the next span key: keys grow with time, so the column delta-packs.
      const spans = (p.spans ?? []).map((sp) => ({ key: nextSpanKey++, s: sp }));
      const keyOfSpan = new Map(spans.map((sp) => [sp.s.spanId, sp.key]));
      const spanKeyOfRow = (i: number): number => keyOfSpan.get(p.spanIds?.[i] ?? 0n) ?? 0;
      // Sort the profile's rows by (span key, stack key): spans in runs, clustered ascending keys delta-pack well.
      const order = Array.from(p.stackIds, (sid, i) => [spanKeyOfRow(i), stackKeyOf(sid), i] as const).sort(
        (a, b) => a[0] - b[0] || a[1] - b[1],
      );
      const keys = new Uint32Array(order.length);
      const values = new Float64Array(order.length);
      const spanKeys = spans.length === 0 ? undefined : new Uint32Array(order.length);
      let total = 0;
      order.forEach(([sk, k, i], j) => {
        keys[j] = k;
        values[j] = p.values[i]!;
        if (spanKeys !== undefined) spanKeys[j] = sk;
        total += p.values[i]!;
      });
      rows.push({ series, timeMs: Math.trunc(p.timeMs), keys, values, spanKeys, spans, total });
    }
    rows.sort((a, b) => a.series.key - b.series.key || a.timeMs - b.timeMs);
    const newDirty = new Set<number>();

    await inTransaction(c, async () => {
      if (newFunctions.size > 0) {
        const a = await c.createAppender('functions');
        for (const f of newFunctions.values()) {
          a.appendUBigInt(f.id);
          a.appendVarchar(f.name);
          a.appendVarchar(f.file);
          a.endRow();
        }
        a.closeSync();
      }
      if (newStacks.size > 0) {
        const a = await c.createAppender('stacks');
        for (const { key, s } of newStacks.values()) {
          a.appendUInteger(key);
          a.appendUBigInt(s.id);
          a.appendUBigInt(s.parentId);
          a.appendUBigInt(s.functionId);
          a.endRow();
        }
        a.closeSync();
      }
      if (newSeries.size > 0) {
        const a = await c.createAppender('series');
        for (const s of newSeries.values()) {
          a.appendUInteger(s.key);
          a.appendVarchar(s.tenant);
          a.appendUBigInt(s.id);
          a.appendVarchar(JSON.stringify(s.byName.toLabels().map((l) => [l.name, l.value])));
          a.endRow();
        }
        a.closeSync();
      }
      if (rows.length > 0) {
        const pa = await c.createAppender('profiles');
        const sa = await c.createAppender('samples');
        const spa = rows.some((r) => r.spans.length > 0) ? await c.createAppender('spans') : undefined;
        for (const r of rows) {
          pa.appendUInteger(r.series.key);
          pa.appendBigInt(BigInt(r.timeMs));
          pa.appendDouble(r.total);
          pa.endRow();
          const t = BigInt(r.timeMs);
          for (let j = 0; j < r.keys.length; j++) {
            sa.appendUInteger(r.series.key);
            sa.appendBigInt(t);
            sa.appendUInteger(r.keys[j]!);
            sa.appendDouble(r.values[j]!);
            sa.appendUInteger(r.spanKeys?.[j] ?? 0);
            sa.endRow();
          }
          for (const { key, s: sp } of r.spans) {
            spa!.appendUInteger(key);
            spa!.appendUInteger(r.series.key);
            spa!.appendBigInt(t);
            spa!.appendUBigInt(sp.spanId);
            spa!.appendVarchar(sp.name);
            spa!.appendVarchar(sp.traceId);
            spa!.appendDouble(sp.total);
            spa!.appendUInteger(sp.samples);
            spa!.endRow();
          }
        }
        pa.closeSync();
        sa.closeSync();
        spa?.closeSync();
        // Samples of hours already rolled up make those hours dirty, in this same transaction.
        for (const r of rows) {
          if (r.timeMs >= this.rolledUntilMs) continue;
          const hour = Math.floor(r.timeMs / HOUR_MS) * HOUR_MS;
          if (!this.dirtyHours.has(hour) && !newDirty.has(hour)) newDirty.add(hour);
        }
        if (newDirty.size > 0) await c.run(`INSERT INTO rollup_dirty VALUES (${[...newDirty].join('),(')})`);
      }
    });

    // Committed: publish to the mirrors.
    for (const f of newFunctions.values()) this.functions.set(f.id, { name: f.name, file: f.file });
    for (const { key, s } of newStacks.values()) {
      this.stackKeyById.set(s.id, key);
      this.stackIds.set(key, s.id);
      this.stackParents.set(key, s.parentId);
      this.stackFunctions.set(key, s.functionId);
    }
    this.stackCount = nextStackKey;
    this.nextSpanKey = nextSpanKey;
    for (const h of newDirty) this.dirtyHours.add(h);
    for (const s of newSeries.values()) this.addSeries(s);
    for (const r of rows) {
      if (r.timeMs < r.series.minMs) r.series.minMs = r.timeMs;
      if (r.timeMs > r.series.maxMs) r.series.maxMs = r.timeMs;
    }
  }

  /**
   * Sums again the hours made dirty by late samples, then the samples of every hour that ended at
   * least ROLLUP_LAG_MS before nowMs and is not rolled up yet, into samples_1h, and moves the
   * watermark; returns it. Runs in the write chain, so no append sees half of it.
   */
  async rollUp(nowMs: number): Promise<number> {
    // In steps of at most a day of hours, each its own transaction, so appends go in between
    // (the first start on a store written before rollups sums its whole history).
    for (;;) {
      const { until, done } = await this.inWriteChain(() => this.rollUpStep(nowMs));
      if (done) return until;
    }
  }

  private async rollUpStep(nowMs: number): Promise<{ until: number; done: boolean }> {
    const c = this.ready();
    const target = Math.floor((nowMs - ROLLUP_LAG_MS) / HOUR_MS) * HOUR_MS;
    let from = this.rolledUntilMs;
    if (target > from) {
      // Skip the empty stretch before the first sample not rolled up (from 0 on a new store).
      const first = await scalar(c, `SELECT min(time_ms) FROM samples WHERE time_ms >= ${int(from, 'from')}`);
      from =
        first === null || first === undefined
          ? target
          : Math.max(from, Math.floor(Number(first) / HOUR_MS) * HOUR_MS);
    }
    const until = Math.max(this.rolledUntilMs, Math.min(target, from + DAY_MS));
    const dirty = [...this.dirtyHours].slice(0, 24);
    if (until === this.rolledUntilMs && dirty.length === 0) return { until, done: true };
    const sumInto = (where: string) =>
      c.run(`INSERT INTO samples_1h
             SELECT series_key, time_ms // ${HOUR_MS} * ${HOUR_MS}, stack_key, sum(value) FROM samples
             WHERE ${where} GROUP BY ALL`);
    await inTransaction(c, async () => {
      if (dirty.length > 0) {
        const hours = dirty.map((h) => h / HOUR_MS).join(',');
        await c.run(`DELETE FROM samples_1h WHERE hour_ms // ${HOUR_MS} IN (${hours})`);
        await sumInto(`time_ms // ${HOUR_MS} IN (${hours})`);
        await c.run(`DELETE FROM rollup_dirty WHERE hour_ms // ${HOUR_MS} IN (${hours})`);
      }
      if (until > this.rolledUntilMs) {
        if (until > from)
          await sumInto(`time_ms >= ${int(from, 'from')} AND time_ms < ${int(until, 'until')}`);
        await c.run(`UPDATE rollup_state SET rolled_until_ms = ${until}`);
      }
    });
    for (const h of dirty) this.dirtyHours.delete(h);
    this.rolledUntilMs = until;
    return { until, done: until >= target && this.dirtyHours.size === 0 };
  }

  /**
   * Retention: deletes the profiles and samples of every whole UTC day before the day of cutoffMs
   * (what the ClickHouse store does by dropping day partitions) and returns those days (unix day
   * numbers) that held any. Runs in the write chain, so never beside an append. The checkpoint
   * after it hands emptied blocks back to the file for reuse: the file stops growing, it does not
   * shrink. Dictionaries (series labels, stacks, functions) stay: they are small and ids are stable.
   */
  dropDaysBefore(cutoffMs: number): Promise<number[]> {
    return this.inWriteChain(() => this.dropDaysNow(cutoffMs));
  }

  private async dropDaysNow(cutoffMs: number): Promise<number[]> {
    const c = this.ready();
    const keepFrom = Math.floor(cutoffMs / DAY_MS) * DAY_MS;
    const days = await numbers(
      c,
      `SELECT DISTINCT time_ms // ${DAY_MS} AS day FROM profiles WHERE time_ms < ${int(keepFrom, 'cutoffMs')} ORDER BY day`,
    );
    if (days.length === 0) return days;
    await inTransaction(c, async () => {
      await c.run(`DELETE FROM samples WHERE time_ms < ${keepFrom}`);
      await c.run(`DELETE FROM samples_1h WHERE hour_ms < ${keepFrom}`);
      await c.run(`DELETE FROM rollup_dirty WHERE hour_ms < ${keepFrom}`);
      await c.run(`DELETE FROM profiles WHERE time_ms < ${keepFrom}`);
      await c.run(`DELETE FROM spans WHERE time_ms < ${keepFrom}`);
    });
    // Committed: the cached bounds of the series that had old profiles are read again.
    for (const h of this.dirtyHours) if (h < keepFrom) this.dirtyHours.delete(h);
    await this.readBounds(
      c,
      this.seriesByKey.filter((s) => s !== undefined && s.minMs < keepFrom),
    );
    await c.run('CHECKPOINT');
    return days;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  private async withReader<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    this.ready();
    const c = this.idleReaders.pop() ?? (await this.instance!.connect());
    try {
      return await fn(c);
    } finally {
      if (this.closed) c.closeSync();
      else this.idleReaders.push(c);
    }
  }

  /** Series of the tenant matching any selector (OR of ANDs). */
  private matchSeries(tenant: string, selectors: readonly (readonly Matcher[])[]): SeriesEntry[] {
    const list = this.seriesByTenant.get(tenant) ?? [];
    const match = compileSelectors(selectors);
    return list.filter((s) => match(s.byName));
  }

  /** Of the given series, those having a profile in [startMs, endMs]; SQL only when the cached bounds cannot tell. */
  private async withDataIn(series: SeriesEntry[], startMs: number, endMs: number): Promise<SeriesEntry[]> {
    const sure: SeriesEntry[] = [];
    const unsure: SeriesEntry[] = [];
    for (const s of series) {
      if (s.maxMs < startMs || s.minMs > endMs) continue;
      if ((s.minMs >= startMs && s.minMs <= endMs) || (s.maxMs >= startMs && s.maxMs <= endMs)) sure.push(s);
      else unsure.push(s);
    }
    if (unsure.length === 0) return sure;
    const sql = `SELECT DISTINCT series_key FROM profiles WHERE series_key IN (${unsure.map((s) => s.key).join(',')})
                 AND time_ms BETWEEN ${int(startMs, 'startMs')} AND ${int(endMs, 'endMs')}`;
    await this.withReader((c) =>
      forEachChunk(c, sql, (chunk) => {
        const keys = chunk.getColumnVector(0);
        for (let r = 0; r < chunk.rowCount; r++) sure.push(this.seriesByKey[Number(keys.getItem(r))]!);
      }),
    );
    return sure;
  }

  private async selectSeries(q: SeriesQuery): Promise<SeriesEntry[]> {
    return this.withDataIn(this.matchSeries(q.tenant, q.selectors), q.startMs, q.endMs);
  }

  async profileTypes(q: SeriesQuery): Promise<string[]> {
    const out = new Set<string>();
    for (const s of await this.selectSeries(q)) {
      const t = s.byName.get('__profile_type__');
      if (t !== undefined) out.add(t);
    }
    return [...out].sort();
  }

  async labelNames(q: SeriesQuery): Promise<string[]> {
    const out = new Set<string>();
    for (const s of await this.selectSeries(q)) for (const n of s.byName.names()) out.add(n);
    return [...out].sort();
  }

  async labelValues(q: SeriesQuery & { readonly name: string }): Promise<string[]> {
    const out = new Set<string>();
    for (const s of await this.selectSeries(q)) {
      const v = s.byName.get(q.name);
      if (v !== undefined) out.add(v);
    }
    return [...out].sort();
  }

  async series(q: SeriesQuery): Promise<Labels[]> {
    return (await this.selectSeries(q)).map((s) => s.byName.toLabels());
  }

  private profileSeries(q: ProfileQuery): SeriesEntry[] {
    return this.matchSeries(q.tenant, [
      [{ name: '__profile_type__', op: '=', value: q.profileTypeId }, ...q.matchers],
    ]).filter((s) => !(s.maxMs < q.startMs || s.minMs > q.endMs));
  }

  async mergeStacks(q: ProfileQuery): Promise<MergedStacks> {
    const series = this.profileSeries(q);
    if (series.length === 0) return { stackIds: new BigUint64Array(0), values: new Float64Array(0) };
    const seriesKeys = series.map((s) => s.key).join(',');
    const start = Number(int(q.startMs, 'startMs'));
    const end = Number(int(q.endMs, 'endMs'));
    if (q.spans !== undefined) {
      // Span samples are never rolled up: a span is short, and its rows are read from samples only.
      const where = `series_key IN (${seriesKeys}) AND time_ms BETWEEN ${start} AND ${end}`;
      return this.sumPerStack(`SELECT stack_key, sum(value) FROM samples WHERE ${where}
        AND span_key IN (SELECT key FROM spans WHERE ${where} AND ${spanFilter(q.spans)}) GROUP BY stack_key`);
    }
    // Whole hours inside [start, end] that are rolled up come from samples_1h, the rest (ragged
    // ends, hours not rolled yet, dirty hours) from samples.
    const h0 = Math.ceil(start / HOUR_MS) * HOUR_MS;
    const h1 = Math.min(Math.floor((end + 1) / HOUR_MS) * HOUR_MS, this.rolledUntilMs);
    const dirty = [...this.dirtyHours].filter((h) => h >= h0 && h < h1).map((h) => h / HOUR_MS);
    const rawDirty = dirty.length > 0 ? ` OR time_ms // ${HOUR_MS} IN (${dirty.join(',')})` : '';
    const notDirty = dirty.length > 0 ? ` AND hour_ms // ${HOUR_MS} NOT IN (${dirty.join(',')})` : '';
    const sql =
      h1 > h0
        ? `SELECT stack_key, sum(v) FROM (
             SELECT stack_key, value AS v FROM samples WHERE series_key IN (${seriesKeys})
               AND (time_ms BETWEEN ${start} AND ${h0 - 1} OR time_ms BETWEEN ${h1} AND ${end}${rawDirty})
             UNION ALL
             SELECT stack_key, value AS v FROM samples_1h WHERE series_key IN (${seriesKeys})
               AND hour_ms >= ${h0} AND hour_ms < ${h1}${notDirty}
           ) GROUP BY stack_key`
        : `SELECT stack_key, sum(value) FROM samples
           WHERE series_key IN (${seriesKeys}) AND time_ms BETWEEN ${start} AND ${end}
           GROUP BY stack_key`;
    return this.sumPerStack(sql);
  }

  /** Runs a query of (stack_key, sum) rows into merged stacks. */
  private async sumPerStack(sql: string): Promise<MergedStacks> {
    const keys: number[] = [];
    const sums: number[] = [];
    await this.withReader((c) =>
      forEachChunk(c, sql, (chunk) => {
        const k = chunk.getColumnVector(0);
        const v = chunk.getColumnVector(1);
        for (let r = 0; r < chunk.rowCount; r++) {
          keys.push(Number(k.getItem(r)));
          sums.push(v.getItem(r) as number);
        }
      }),
    );
    const stackIds = new BigUint64Array(keys.length);
    const ids = this.stackIds.data;
    for (let i = 0; i < keys.length; i++) stackIds[i] = ids[keys[i]!]!;
    return { stackIds, values: Float64Array.from(sums) };
  }

  async timeSeries(q: TimeSeriesQuery): Promise<SeriesPoints[]> {
    if (!(q.stepMs > 0)) throw storeErrors.invalidStep(q.stepMs);
    const series = this.profileSeries(q);
    if (series.length === 0) return [];
    const start = int(q.startMs, 'startMs');
    const step = int(Math.max(1, q.stepMs), 'stepMs');
    const where = `series_key IN (${series.map((s) => s.key).join(',')})
                 AND time_ms BETWEEN ${start} AND ${int(q.endMs, 'endMs')}`;
    const sql = `SELECT series_key, (time_ms - ${start}) // ${step} AS k, sum(total), count(*) FROM profiles
                 WHERE ${where} GROUP BY ALL`;
    // With a stack filter the sums come from the matching samples (per series and bucket); the
    // profiles still give each bucket's profile count, the divisor of avg.
    let filtered: Map<string, number> | undefined;
    if (filtersStacks(q.stacks)) {
      const { ctes, keys, values } = stackFilterSql(q.stacks);
      filtered = new Map();
      const sums = filtered;
      // The matching keys go to a temporary table (of this reader connection) first: with its
      // statistics DuckDB joins the samples to it ~15× faster than to the CTE inline (B3 data, 24 h:
      // 0.24 s instead of 3-5 s on a loaded 2-core machine).
      await this.withReader(async (c) => {
        await c.run(
          `CREATE OR REPLACE TEMP TABLE stack_filter AS WITH RECURSIVE ${ctes} SELECT DISTINCT key FROM (${keys})`,
          values,
        );
        try {
          await forEachChunk(
            c,
            `SELECT series_key, (time_ms - ${start}) // ${step} AS k, sum(value) FROM samples
             WHERE ${where} AND stack_key IN (SELECT key FROM stack_filter) GROUP BY ALL`,
            (chunk) => {
              const [keyCol, kCol, sumCol] = [0, 1, 2].map((i) => chunk.getColumnVector(i));
              for (let r = 0; r < chunk.rowCount; r++)
                sums.set(`${keyCol!.getItem(r)}:${kCol!.getItem(r)}`, sumCol!.getItem(r) as number);
            },
          );
        } finally {
          await c.run('DROP TABLE IF EXISTS stack_filter');
        }
      });
      if (filtered.size === 0) return [];
    }
    // group key → bucket → [sum, profiles, rows with matching samples]
    const groups = new Map<string, { labels: Labels; buckets: Map<number, [number, number, number]> }>();
    const groupOf = (s: SeriesEntry) => {
      const labels: Labels = [...q.groupBy]
        .sort()
        .filter((n) => s.byName.has(n))
        .map((name) => ({ name, value: s.byName.get(name)! }));
      const key = formatLabels(labels);
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { labels, buckets: new Map() }));
      return g;
    };
    await this.withReader((c) =>
      forEachChunk(c, sql, (chunk) => {
        const [keys, ks, sums, counts] = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i));
        for (let r = 0; r < chunk.rowCount; r++) {
          const sum =
            filtered === undefined
              ? (sums!.getItem(r) as number)
              : filtered.get(`${keys!.getItem(r)}:${ks!.getItem(r)}`);
          const g = groupOf(this.seriesByKey[Number(keys!.getItem(r))]!);
          const k = Number(ks!.getItem(r));
          const b = g.buckets.get(k) ?? [0, 0, 0];
          b[0] += sum ?? 0;
          b[1] += Number(counts!.getItem(r));
          if (sum !== undefined) b[2]++;
          g.buckets.set(k, b);
        }
      }),
    );
    const out: SeriesPoints[] = [];
    for (const g of [...groups.values()].sort((a, b) =>
      formatLabels(a.labels) < formatLabels(b.labels) ? -1 : 1,
    )) {
      const ks = [...g.buckets.keys()].filter((k) => g.buckets.get(k)![2] > 0).sort((a, b) => a - b);
      if (ks.length === 0) continue;
      out.push({
        labels: g.labels,
        timestampsMs: Float64Array.from(ks, (k) => Number(start) + k * Number(step)),
        values: Float64Array.from(ks, (k) => {
          const [sum, n] = g.buckets.get(k)!;
          return q.aggregation === 'avg' ? sum / n : sum;
        }),
      });
    }
    return out;
  }

  async spans(q: SpanQuery): Promise<SpanSummary[]> {
    const series = this.profileSeries(q);
    if (series.length === 0 || !(q.limit > 0)) return [];
    const sql = `SELECT span_id, max(name), max(trace_id), sum(total) AS t, sum(samples), min(time_ms), max(time_ms)
      FROM spans WHERE series_key IN (${series.map((s) => s.key).join(',')})
      AND time_ms BETWEEN ${int(q.startMs, 'startMs')} AND ${int(q.endMs, 'endMs')}
      GROUP BY span_id ORDER BY t DESC, span_id LIMIT ${int(q.limit, 'limit')}`;
    const out: SpanSummary[] = [];
    await this.withReader((c) =>
      forEachChunk(c, sql, (chunk) => {
        const cols = [0, 1, 2, 3, 4, 5, 6].map((i) => chunk.getColumnVector(i));
        for (let r = 0; r < chunk.rowCount; r++) {
          out.push({
            spanId: cols[0]!.getItem(r) as bigint,
            name: cols[1]!.getItem(r) as string,
            traceId: cols[2]!.getItem(r) as string,
            total: cols[3]!.getItem(r) as number,
            samples: Number(cols[4]!.getItem(r)),
            firstMs: Number(cols[5]!.getItem(r)),
            lastMs: Number(cols[6]!.getItem(r)),
          });
        }
      }),
    );
    return out;
  }

  async spanExemplars(q: TimeSeriesQuery): Promise<SpanExemplar[]> {
    if (!(q.stepMs > 0)) throw storeErrors.invalidStep(q.stepMs);
    const series = this.profileSeries(q);
    if (series.length === 0) return [];
    const start = int(q.startMs, 'startMs');
    const step = int(Math.max(1, q.stepMs), 'stepMs');
    const sql = `SELECT series_key, k, time_ms, span_id, name, trace_id, total FROM (
        SELECT *, (time_ms - ${start}) // ${step} AS k,
          row_number() OVER (PARTITION BY series_key, k ORDER BY total DESC, span_id) AS rn
        FROM spans WHERE series_key IN (${series.map((s) => s.key).join(',')})
        AND time_ms BETWEEN ${start} AND ${int(q.endMs, 'endMs')}
      ) WHERE rn = 1 ORDER BY series_key, k`;
    const out: SpanExemplar[] = [];
    await this.withReader((c) =>
      forEachChunk(c, sql, (chunk) => {
        const cols = [0, 1, 2, 3, 4, 5, 6].map((i) => chunk.getColumnVector(i));
        for (let r = 0; r < chunk.rowCount; r++) {
          out.push({
            labels: this.seriesByKey[Number(cols[0]!.getItem(r))]!.byName.toLabels(),
            timestampMs: Number(start) + Number(cols[1]!.getItem(r)) * Number(step),
            timeMs: Number(cols[2]!.getItem(r)),
            spanId: cols[3]!.getItem(r) as bigint,
            name: cols[4]!.getItem(r) as string,
            traceId: cols[5]!.getItem(r) as string,
            total: cols[6]!.getItem(r) as number,
          });
        }
      }),
    );
    return out;
  }

  async getStacks(ids: readonly bigint[]): Promise<Map<bigint, StackRecord>> {
    const out = new Map<bigint, StackRecord>();
    for (const id of ids) {
      const k = this.stackKeyById.get(id);
      if (k === undefined) continue;
      out.set(id, { id, parentId: this.stackParents.data[k]!, functionId: this.stackFunctions.data[k]! });
    }
    return out;
  }

  async getFunctions(ids: readonly bigint[]): Promise<Map<bigint, FunctionRecord>> {
    const out = new Map<bigint, FunctionRecord>();
    for (const id of ids) {
      const f = this.functions.get(id);
      if (f !== undefined) out.set(id, { id, name: f.name, file: f.file });
    }
    return out;
  }

  async stats(tenant: string): Promise<ProfileStats> {
    let oldest = Infinity;
    let newest = -Infinity;
    for (const s of this.seriesByTenant.get(tenant) ?? []) {
      if (s.minMs < oldest) oldest = s.minMs;
      if (s.maxMs > newest) newest = s.maxMs;
    }
    if (oldest === Infinity) return { dataIngested: false, oldestProfileTimeMs: 0, newestProfileTimeMs: 0 };
    return { dataIngested: true, oldestProfileTimeMs: oldest, newestProfileTimeMs: newest };
  }

  // -------------------------------------------------------------------------------------------
  // API keys (few rows, read through the server's key cache): plain parameterised SQL.

  createApiKey(key: ApiKeyRecord): Promise<void> {
    return this.inWriteChain(async () => {
      await this.ready().run('INSERT INTO api_keys VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        key.id,
        key.hash,
        key.tenant,
        key.scope,
        key.name,
        key.createdMs,
        key.revokedMs,
      ]);
    });
  }

  async apiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return (await this.apiKeysWhere('WHERE hash = $1', [hash]))[0];
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.apiKeysWhere('', []);
  }

  revokeApiKey(id: string, revokedMs: number): Promise<boolean> {
    return this.inWriteChain(async () => {
      const c = this.ready();
      const found = await c.run('SELECT count(*) AS n FROM api_keys WHERE id = $1', [id]);
      if (Number((await found.getRowObjects())[0]?.n ?? 0) === 0) return false;
      await c.run('UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND revoked_ms = 0', [id, revokedMs]);
      return true;
    });
  }

  private apiKeysWhere(where: string, values: string[]): Promise<ApiKeyRecord[]> {
    return this.withReader(async (c) => {
      const result = await c.run(
        `SELECT id, hash, tenant, scope, name, created_ms, revoked_ms FROM api_keys ${where} ORDER BY created_ms, id`,
        values,
      );
      return (await result.getRowObjects()).map((r) => ({
        id: String(r.id),
        hash: String(r.hash),
        tenant: String(r.tenant),
        scope: String(r.scope) as ApiKeyScope,
        name: String(r.name),
        createdMs: Number(r.created_ms),
        revokedMs: Number(r.revoked_ms),
      }));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Documents (few, small rows): a put deletes and inserts in one transaction on the writer.

  putDocument(doc: DocumentRecord): Promise<void> {
    return this.inWriteChain(async () => {
      const c = this.ready();
      await inTransaction(c, async () => {
        await c.run('DELETE FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3', [
          doc.tenant,
          doc.kind,
          doc.id,
        ]);
        await c.run('INSERT INTO documents VALUES ($1, $2, $3, $4, $5)', [
          doc.tenant,
          doc.kind,
          doc.id,
          doc.body,
          Math.trunc(doc.updatedMs),
        ]);
      });
    });
  }

  async getDocument(tenant: string, kind: string, id: string): Promise<DocumentRecord | undefined> {
    return (await this.documentsWhere('WHERE kind = $1 AND tenant = $2 AND id = $3', [kind, tenant, id]))[0];
  }

  listDocuments(kind: string, tenant?: string): Promise<DocumentRecord[]> {
    return tenant === undefined
      ? this.documentsWhere('WHERE kind = $1', [kind])
      : this.documentsWhere('WHERE kind = $1 AND tenant = $2', [kind, tenant]);
  }

  deleteDocument(tenant: string, kind: string, id: string): Promise<boolean> {
    return this.inWriteChain(async () => {
      const result = await this.ready().run(
        'DELETE FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3',
        [tenant, kind, id],
      );
      return result.rowsChanged > 0;
    });
  }

  private documentsWhere(where: string, values: string[]): Promise<DocumentRecord[]> {
    return this.withReader(async (c) => {
      const result = await c.run(
        `SELECT tenant, kind, id, body, updated_ms FROM documents ${where} ORDER BY tenant, id`,
        values,
      );
      return (await result.getRowObjects()).map((r) => ({
        tenant: String(r.tenant),
        kind: String(r.kind),
        id: String(r.id),
        body: String(r.body),
        updatedMs: Number(r.updated_ms),
      }));
    });
  }
}

/**
 * The SQL condition on a `spans` row of a span selector: one of the listed spans, or of the listed
 * traces. Ids are numbers and trace ids hex (checked by the querier, and again here) so the text is
 * safe to inline.
 */
function spanFilter(sel: SpanSelector): string {
  const parts: string[] = [];
  if (sel.spanIds.length > 0)
    parts.push(`span_id IN (${sel.spanIds.map((id) => BigInt.asUintN(64, id)).join(',')})`);
  const traces = sel.traceIds.filter((t) => /^[0-9a-f]{1,32}$/.test(t));
  if (traces.length > 0) parts.push(`trace_id IN ('${traces.join("','")}')`);
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}

/**
 * A stack filter as recursive CTEs over the stack dictionary: `hit` holds the stacks with a frame
 * of the function (its stacks, then their descendants), `site` walks the call site down from the
 * roots one frame per step and `under` takes every descendant of its last frame. Names travel as
 * parameters. `keys` selects the dense keys of stacks passing every given part.
 */
function stackFilterSql(f: StackFilter): { ctes: string; keys: string; values: Record<string, string> } {
  const ctes: string[] = [];
  const sets: string[] = [];
  const values: Record<string, string> = {};
  if (f.functionName !== undefined) {
    values.fn = f.functionName;
    ctes.push(`hit(id, key) AS (
      SELECT id, key FROM stacks WHERE function_id IN (SELECT id FROM functions WHERE name = $fn)
      UNION SELECT s.id, s.key FROM stacks s JOIN hit h ON s.parent_id = h.id)`);
    sets.push('SELECT key FROM hit');
  }
  const site = f.callSite ?? [];
  if (site.length > 0) {
    site.forEach((name, i) => (values[`site${i}`] = name));
    const names = `list_value(${site.map((_, i) => `$site${i}`).join(', ')})`;
    ctes.push(`site(id, key, depth) AS (
      SELECT s.id, s.key, 1 FROM stacks s JOIN functions f ON f.id = s.function_id
      WHERE s.parent_id = 0 AND f.name = $site0
      UNION SELECT s.id, s.key, p.depth + 1 FROM site p JOIN stacks s ON s.parent_id = p.id
      JOIN functions f ON f.id = s.function_id WHERE p.depth < ${site.length} AND f.name = ${names}[p.depth + 1])`);
    ctes.push(`under(id, key) AS (
      SELECT id, key FROM site WHERE depth = ${site.length}
      UNION SELECT s.id, s.key FROM stacks s JOIN under u ON s.parent_id = u.id)`);
    sets.push('SELECT key FROM under');
  }
  return { ctes: ctes.join(',\n'), keys: sets.join(' INTERSECT '), values };
}

async function forEachChunk(
  c: DuckDBConnection,
  sql: string,
  visit: (chunk: DuckDBDataChunk) => void,
  values?: Record<string, string>,
): Promise<void> {
  const result = await c.run(sql, values);
  for (let i = 0; i < result.chunkCount; i++) visit(result.getChunk(i));
}

/** The first column of a query's rows, as numbers. */
async function numbers(c: DuckDBConnection, sql: string): Promise<number[]> {
  const out: number[] = [];
  await forEachChunk(c, sql, (chunk) => {
    const col = chunk.getColumnVector(0);
    for (let r = 0; r < chunk.rowCount; r++) out.push(Number(col.getItem(r)));
  });
  return out;
}

async function scalar(c: DuckDBConnection, sql: string): Promise<unknown> {
  const result = await c.run(sql);
  return result.chunkCount === 0 ? undefined : result.getChunk(0).getColumnVector(0).getItem(0);
}

/** Runs fn between BEGIN and COMMIT on c; rolls back and rethrows if it fails. */
async function inTransaction(c: DuckDBConnection, fn: () => Promise<void>): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    await fn();
    await c.run('COMMIT');
  } catch (e) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
