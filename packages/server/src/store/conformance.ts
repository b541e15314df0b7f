// The store conformance suite: one set of cases every Store backend runs (DuckDB, memory, ClickHouse).
// Usage, in a backend's test file:
//   runStoreConformance('duckdb', (dir) => openDuckDBStore({ dataDir: dir }));
//   runStoreConformance('memory', () => openMemoryStore(), { durable: false });
//
// Semantics pinned here (backends agree on them):
// - time ranges are inclusive at both ends;
// - timeSeries buckets: point time = startMs + k·stepMs with k = floor((t − startMs) / stepMs);
//   only steps with data appear; 'sum' adds values, 'avg' divides the bucket's sum by the number of
//   profiles (appended ProfileRecords) in the bucket;
// - matchers follow Prometheus: an absent label reads as "", regexes are fully anchored;
// - label names / values / series / profile types only report series having data in the range;
// - spans: a span selector keeps exactly the samples of its spans (by id, or by trace id); spans()
//   sums per span id, largest total first, ties by smaller id; spanExemplars keeps per series and
//   step the (profile, span) with the largest total;
// - a stack filter on timeSeries counts a stack whole when a frame anywhere on it is the function
//   (once, however often it recurs) and/or its frames from the root begin with the call site; only
//   steps holding a matching sample are points; avg still divides by every profile of the step.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionId, labelsFromRecord, stackId, type Labels } from '@hotpath/core';
import type {
  ApiKeyRecord,
  ApiKeyScope,
  DocumentRecord,
  FunctionRecord,
  Matcher,
  ProfileRecord,
  SpanRecord,
  StackRecord,
  Store,
  TimeSeriesQuery,
  WriteBatch,
} from './types.ts';

export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
export const MEM = 'memory:inuse_space:bytes:space:bytes';
/** A 10 s aligned instant: 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000_000;

/** Series labels as the write path makes them (service_name, __name__, __profile_type__ + extras). */
export function seriesLabels(profileType: string, extra: Record<string, string>): Labels {
  return labelsFromRecord({ __name__: profileType.split(':')[0]!, __profile_type__: profileType, ...extra });
}

/** The samples of one span in a profile of batchOf: its own folded picture. */
export interface SpanPicture {
  readonly spanId: bigint;
  readonly name: string;
  readonly traceId: string;
  readonly folded: Readonly<Record<string, number>>;
}

/**
 * Builds a WriteBatch from folded pictures: `{ 'main;work': 30, 'main;idle': 10 }` per profile, plus
 * optionally the samples of spans (each its own picture, added to the profile's rows as the write
 * path does). Function ids and stack ids are computed with core's content hashes, so every backend
 * sees the same ids.
 */
export function batchOf(
  tenant: string,
  profiles: readonly {
    labels: Labels;
    timeMs: number;
    folded: Readonly<Record<string, number>>;
    spans?: readonly SpanPicture[];
  }[],
): WriteBatch {
  const functions = new Map<bigint, FunctionRecord>();
  const stacks = new Map<bigint, StackRecord>();
  const records: ProfileRecord[] = [];
  for (const p of profiles) {
    const rows: { id: bigint; value: number; span: bigint }[] = [];
    const spans: SpanRecord[] = [];
    for (const sp of [{ spanId: 0n, name: '', traceId: '', folded: p.folded }, ...(p.spans ?? [])]) {
      const sums = new Map<bigint, number>();
      for (const [line, value] of Object.entries(sp.folded)) {
        const id = stackIdOf(line.split(';'), functions, stacks);
        sums.set(id, (sums.get(id) ?? 0) + value);
      }
      for (const [id, value] of sums) rows.push({ id, value, span: sp.spanId });
      const values = [...sums.values()];
      if (sp.spanId !== 0n)
        spans.push({
          spanId: sp.spanId,
          name: sp.name,
          traceId: sp.traceId,
          total: values.reduce((a, b) => a + b, 0),
          samples: values.length,
        });
    }
    records.push({
      tenant,
      labels: p.labels,
      timeMs: p.timeMs,
      stackIds: BigUint64Array.from(rows.map((r) => r.id)),
      values: Float64Array.from(rows.map((r) => r.value)),
      ...(spans.length > 0 ? { spanIds: BigUint64Array.from(rows.map((r) => r.span)), spans } : {}),
    });
  }
  return { profiles: records, functions: [...functions.values()], stacks: [...stacks.values()] };
}

function stackIdOf(
  frames: readonly string[],
  functions: Map<bigint, FunctionRecord>,
  stacks: Map<bigint, StackRecord>,
): bigint {
  let parent = 0n;
  for (const name of frames) {
    const fn = functionId(name, `${name}.py`);
    functions.set(fn, { id: fn, name, file: `${name}.py` });
    const id = stackId(parent, fn);
    stacks.set(id, { id, parentId: parent, functionId: fn });
    parent = id;
  }
  return parent;
}

/** Stack id of a folded line, as batchOf computes it. */
export function foldedStackId(line: string): bigint {
  return stackIdOf(line.split(';'), new Map(), new Map());
}

/** A merged result as a folded picture: `{ 'main;work': 30 }`, resolved through the store's dictionaries. */
export async function foldedOf(
  store: Store,
  merged: { stackIds: BigUint64Array; values: Float64Array },
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const stackIds = [...merged.stackIds];
  const stacks = new Map<bigint, StackRecord>();
  let pending = stackIds;
  while (pending.length > 0) {
    const found = await store.getStacks(pending);
    const next: bigint[] = [];
    for (const [id, s] of found) {
      stacks.set(id, s);
      if (s.parentId !== 0n && !stacks.has(s.parentId)) next.push(s.parentId);
    }
    pending = [...new Set(next)];
  }
  const fnIds = [...new Set([...stacks.values()].map((s) => s.functionId))];
  const functions = await store.getFunctions(fnIds);
  stackIds.forEach((id, i) => {
    const names: string[] = [];
    for (
      let s = stacks.get(id);
      s !== undefined;
      s = s.parentId === 0n ? undefined : stacks.get(s.parentId)
    ) {
      names.push(functions.get(s.functionId)?.name ?? '?');
    }
    const key = names.reverse().join(';');
    out[key] = (out[key] ?? 0) + merged.values[i]!;
  });
  return out;
}

const m = (name: string, op: Matcher['op'], value: string): Matcher => ({ name, op, value });

function sortLabelSets(sets: Labels[]): string[] {
  return sets.map((l) => l.map((p) => `${p.name}=${p.value}`).join(',')).sort();
}

export function runStoreConformance(
  name: string,
  open: (dataDir: string) => Promise<Store>,
  opts: { durable?: boolean } = {},
): void {
  const durable = opts.durable ?? true;
  const dirs: string[] = [];
  const stores: Store[] = [];
  const fresh = async (): Promise<{ store: Store; dir: string }> => {
    const dir = mkdtempSync(join(tmpdir(), `hotpath-store-${name}-`));
    dirs.push(dir);
    const store = await open(dir);
    await store.init();
    stores.push(store);
    return { store, dir };
  };

  describe(`Store conformance: ${name}`, () => {
    const apiEu = seriesLabels(CPU, { service_name: 'api', region: 'eu' });
    const apiUs = seriesLabels(CPU, { service_name: 'api', region: 'us' });
    const workerEu = seriesLabels(CPU, { service_name: 'worker', region: 'eu', pod: 'w-1' });
    const apiMem = seriesLabels(MEM, { service_name: 'api', region: 'eu' });
    let store: Store;

    beforeAll(async () => {
      store = (await fresh()).store;
      // Three profiles per CPU series at T0, T0+10s, T0+20s; one memory profile.
      await store.append(
        batchOf('t1', [
          { labels: apiEu, timeMs: T0, folded: { 'main;work': 30, 'main;idle': 10 } },
          { labels: apiEu, timeMs: T0 + 10_000, folded: { 'main;work': 20 } },
          { labels: apiEu, timeMs: T0 + 20_000, folded: { 'main;work': 5, 'main;io;read': 7 } },
          { labels: apiUs, timeMs: T0, folded: { 'main;work': 100 } },
          { labels: apiUs, timeMs: T0 + 10_000, folded: { 'main;idle': 1 } },
        ]),
      );
      // A second append (a later group commit) repeating dictionary entries.
      await store.append(
        batchOf('t1', [
          { labels: apiUs, timeMs: T0 + 20_000, folded: { 'main;work': 3 } },
          { labels: workerEu, timeMs: T0 + 10_000, folded: { 'job;run': 50 } },
          { labels: apiMem, timeMs: T0 + 10_000, folded: { 'main;alloc': 4096 } },
        ]),
      );
      // Another tenant with an overlapping label set.
      await store.append(batchOf('t2', [{ labels: apiEu, timeMs: T0, folded: { 'main;secret': 999 } }]));
    });

    afterAll(async () => {
      for (const s of stores) await s.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    const range = { startMs: T0, endMs: T0 + 20_000 };

    it('mergeStacks sums values per stack over series and time', async () => {
      const merged = await store.mergeStacks({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'api')],
        ...range,
      });
      expect(merged.stackIds.length).toBe(merged.values.length);
      expect(await foldedOf(store, merged)).toEqual({ 'main;work': 158, 'main;idle': 11, 'main;io;read': 7 });
    });

    it('mergeStacks keeps to the profile type and the matchers', async () => {
      const mem = await store.mergeStacks({ tenant: 't1', profileTypeId: MEM, matchers: [], ...range });
      expect(await foldedOf(store, mem)).toEqual({ 'main;alloc': 4096 });
      const eu = await store.mergeStacks({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('region', '=', 'eu')],
        ...range,
      });
      expect(await foldedOf(store, eu)).toEqual({
        'main;work': 55,
        'main;idle': 10,
        'main;io;read': 7,
        'job;run': 50,
      });
      const none = await store.mergeStacks({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'nope')],
        ...range,
      });
      expect(none.stackIds.length).toBe(0);
      const unknownType = await store.mergeStacks({
        tenant: 't1',
        profileTypeId: 'x:y:z::',
        matchers: [],
        ...range,
      });
      expect(unknownType.values.length).toBe(0);
    });

    it('time ranges are inclusive at both ends', async () => {
      const q = {
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'api'), m('region', '=', 'eu')],
      };
      const exact = await store.mergeStacks({ ...q, startMs: T0 + 10_000, endMs: T0 + 10_000 });
      expect(await foldedOf(store, exact)).toEqual({ 'main;work': 20 });
      const before = await store.mergeStacks({ ...q, startMs: T0 + 1, endMs: T0 + 9_999 });
      expect(before.stackIds.length).toBe(0);
      const firstTwo = await store.mergeStacks({ ...q, startMs: T0, endMs: T0 + 19_999 });
      expect(await foldedOf(store, firstTwo)).toEqual({ 'main;work': 50, 'main;idle': 10 });
      const last = await store.mergeStacks({ ...q, startMs: T0 + 20_000, endMs: T0 + 30_000 });
      expect(await foldedOf(store, last)).toEqual({ 'main;work': 5, 'main;io;read': 7 });
    });

    it('timeSeries sums per step bucket', async () => {
      const points = await store.timeSeries({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'api')],
        ...range,
        stepMs: 10_000,
        groupBy: [],
        aggregation: 'sum',
      });
      expect(points).toHaveLength(1);
      expect(points[0]!.labels).toEqual([]);
      expect([...points[0]!.timestampsMs]).toEqual([T0, T0 + 10_000, T0 + 20_000]);
      expect([...points[0]!.values]).toEqual([140, 21, 15]);

      const wide = await store.timeSeries({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'api')],
        startMs: T0 - 5_000,
        endMs: T0 + 20_000,
        stepMs: 20_000,
        groupBy: [],
        aggregation: 'sum',
      });
      // Buckets [T0-5s, T0+15s) and [T0+15s, T0+35s).
      expect([...wide[0]!.timestampsMs]).toEqual([T0 - 5_000, T0 + 15_000]);
      expect([...wide[0]!.values]).toEqual([161, 15]);
    });

    it('timeSeries groups by labels (absent labels left out) and averages per profile', async () => {
      const byRegion = await store.timeSeries({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [],
        ...range,
        stepMs: 10_000,
        groupBy: ['region'],
        aggregation: 'sum',
      });
      const flat = byRegion
        .map((s) => ({
          labels: s.labels.map((l) => `${l.name}=${l.value}`).join(','),
          t: [...s.timestampsMs],
          v: [...s.values],
        }))
        .sort((a, b) => (a.labels < b.labels ? -1 : 1));
      expect(flat).toEqual([
        { labels: 'region=eu', t: [T0, T0 + 10_000, T0 + 20_000], v: [40, 70, 12] },
        { labels: 'region=us', t: [T0, T0 + 10_000, T0 + 20_000], v: [100, 1, 3] },
      ]);

      const byPod = await store.timeSeries({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('region', '=', 'eu')],
        ...range,
        stepMs: 30_000,
        groupBy: ['pod'],
        aggregation: 'sum',
      });
      const pods = byPod
        .map((s) => ({ labels: s.labels, v: [...s.values] }))
        .sort((a, b) => a.labels.length - b.labels.length);
      expect(pods).toEqual([
        { labels: [], v: [72] },
        { labels: [{ name: 'pod', value: 'w-1' }], v: [50] },
      ]);

      const avg = await store.timeSeries({
        tenant: 't1',
        profileTypeId: CPU,
        matchers: [m('service_name', '=', 'api')],
        ...range,
        stepMs: 30_000,
        groupBy: [],
        aggregation: 'avg',
      });
      // 6 api profiles with totals 40, 20, 12, 100, 1, 3 → 176 / 6.
      expect(avg[0]!.timestampsMs[0]).toBe(T0);
      expect(avg[0]!.values[0]).toBeCloseTo(176 / 6, 9);
    });

    it('label names, values and profile types of series with data in range', async () => {
      const all = { tenant: 't1', selectors: [], ...range };
      expect((await store.labelNames(all)).sort()).toEqual([
        '__name__',
        '__profile_type__',
        'pod',
        'region',
        'service_name',
      ]);
      expect((await store.labelValues({ ...all, name: 'service_name' })).sort()).toEqual(['api', 'worker']);
      expect((await store.labelValues({ ...all, name: 'nope' })).length).toBe(0);
      expect((await store.profileTypes(all)).sort()).toEqual([MEM, CPU]);
      // Only the memory profile and api/eu, worker and api/us CPU profiles exist at T0+10s.
      const at10 = {
        tenant: 't1',
        selectors: [[m('region', '=', 'us')]],
        startMs: T0 + 10_000,
        endMs: T0 + 10_000,
      };
      expect(await store.labelValues({ ...at10, name: 'region' })).toEqual(['us']);
      const later = { tenant: 't1', selectors: [[]], startMs: T0 + 20_001, endMs: T0 + 90_000 };
      expect(await store.labelNames(later)).toEqual([]);
      expect(await store.profileTypes(later)).toEqual([]);
      const memOnly = { tenant: 't1', selectors: [[m('__profile_type__', '=', MEM)]], ...range };
      expect(await store.labelValues({ ...memOnly, name: 'service_name' })).toEqual(['api']);
    });

    it('matchers: =, !=, =~, !~ (anchored, absent label reads as ""), AND within, OR across selectors', async () => {
      const q = (selectors: Matcher[][]) => store.series({ tenant: 't1', selectors, ...range });
      const services = async (selectors: Matcher[][]) =>
        sortLabelSets(await q(selectors)).map((s) =>
          s.replace(/__name__=[^,]*,__profile_type__=([^:]*)[^,]*,/, '$1 '),
        );
      expect(await services([[m('service_name', '=', 'worker')]])).toEqual([
        'process_cpu pod=w-1,region=eu,service_name=worker',
      ]);
      expect(await services([[m('service_name', '!=', 'api')]])).toEqual([
        'process_cpu pod=w-1,region=eu,service_name=worker',
      ]);
      expect((await q([[m('service_name', '=~', 'ap')]])).length).toBe(0);
      expect((await q([[m('service_name', '=~', 'a.*')]])).length).toBe(3);
      expect((await q([[m('service_name', '!~', 'a.*')]])).length).toBe(1);
      expect((await q([[m('region', '=~', 'eu|us'), m('__profile_type__', '=', CPU)]])).length).toBe(3);
      expect(await services([[m('pod', '=', '')]])).toEqual([
        'memory region=eu,service_name=api',
        'process_cpu region=eu,service_name=api',
        'process_cpu region=us,service_name=api',
      ]);
      expect((await q([[m('pod', '!=', 'w-1')]])).length).toBe(3);
      expect(await services([[m('region', '=', 'us')], [m('service_name', '=', 'worker')]])).toEqual([
        'process_cpu pod=w-1,region=eu,service_name=worker',
        'process_cpu region=us,service_name=api',
      ]);
      expect((await q([])).length).toBe(4);
      expect((await q([[]])).length).toBe(4);
      const labelsOfOne = (await q([[m('service_name', '=', 'worker')]]))[0]!;
      expect(labelsOfOne).toEqual(workerEu);
    });

    it('regex matchers are RE2 (match.ts) in every backend: flags, classes, linear time, RE2-only syntax', async () => {
      const q = (selectors: Matcher[][]) => store.series({ tenant: 't1', selectors, ...range });
      expect((await q([[m('service_name', '=~', '(?i)WORKER')]])).length).toBe(1);
      expect((await q([[m('pod', '=~', 'w-\\d')]])).length).toBe(1);
      expect((await q([[m('region', '=~', '[[:lower:]]{2}')]])).length).toBe(4);
      // Backtracking engines take exponential time on this; RE2 answers at once.
      expect((await q([[m('service_name', '=~', '(a+)+$'), m('region', '=~', '(e|u|eu)+')]])).length).toBe(0);
      await expect(q([[m('service_name', '=~', '(?=a)a')]])).rejects.toMatchObject({
        code: 'invalid_matcher',
        httpStatus: 400,
      });
    });

    it('keeps tenants apart', async () => {
      const t2 = await store.mergeStacks({ tenant: 't2', profileTypeId: CPU, matchers: [], ...range });
      expect(await foldedOf(store, t2)).toEqual({ 'main;secret': 999 });
      expect(await store.series({ tenant: 't2', selectors: [], ...range })).toEqual([apiEu]);
      expect(
        await store.labelValues({ tenant: 't3', selectors: [], name: 'service_name', ...range }),
      ).toEqual([]);
      const t1 = await store.mergeStacks({ tenant: 't1', profileTypeId: CPU, matchers: [], ...range });
      expect(Object.keys(await foldedOf(store, t1))).not.toContain('main;secret');
      expect((await store.stats('t3')).dataIngested).toBe(false);
    });

    it('dictionaries: getStacks and getFunctions, unknown ids absent', async () => {
      const id = foldedStackId('main;io;read');
      const parent = foldedStackId('main;io');
      const stacks = await store.getStacks([id, parent, 12345n]);
      expect(stacks.size).toBe(2);
      expect(stacks.get(id)!.parentId).toBe(parent);
      expect(stacks.get(parent)!.functionId).toBe(functionId('io', 'io.py'));
      expect(stacks.get(foldedStackId('main'))).toBeUndefined();
      const fns = await store.getFunctions([functionId('read', 'read.py'), 99n]);
      expect([...fns.values()]).toEqual([
        { id: functionId('read', 'read.py'), name: 'read', file: 'read.py' },
      ]);
      expect((await store.getStacks([])).size).toBe(0);
    });

    it('stats report the oldest and newest profile of a tenant', async () => {
      expect(await store.stats('t1')).toEqual({
        dataIngested: true,
        oldestProfileTimeMs: T0,
        newestProfileTimeMs: T0 + 20_000,
      });
      expect(await store.stats('nobody')).toEqual({
        dataIngested: false,
        oldestProfileTimeMs: 0,
        newestProfileTimeMs: 0,
      });
    });

    it('keeps 64-bit ids with the top bit set and fractional values exact', async () => {
      const { store: s } = await fresh();
      const big = 0xfedcba9876543210n;
      await s.append({
        profiles: [
          {
            tenant: 'x',
            labels: seriesLabels(CPU, { service_name: 's' }),
            timeMs: T0,
            stackIds: BigUint64Array.from([big]),
            values: Float64Array.from([1.5]),
          },
        ],
        functions: [{ id: 0xffffffffffffffffn, name: 'f', file: '' }],
        stacks: [{ id: big, parentId: 0n, functionId: 0xffffffffffffffffn }],
      });
      const merged = await s.mergeStacks({
        tenant: 'x',
        profileTypeId: CPU,
        matchers: [],
        startMs: T0,
        endMs: T0,
      });
      expect([...merged.stackIds]).toEqual([big]);
      expect([...merged.values]).toEqual([1.5]);
      expect((await s.getStacks([big])).get(big)).toEqual({
        id: big,
        parentId: 0n,
        functionId: 0xffffffffffffffffn,
      });
      expect((await s.getFunctions([0xffffffffffffffffn])).get(0xffffffffffffffffn)!.name).toBe('f');
    });

    it('API keys: created, found by hash (also when revoked), listed, revoked once', async () => {
      const { store: s } = await fresh();
      const key = (id: string, tenant: string, scope: ApiKeyScope, createdMs: number): ApiKeyRecord => ({
        id,
        hash: id.repeat(4),
        tenant,
        scope,
        name: `note for ${id}`,
        createdMs,
        revokedMs: 0,
      });
      const a = key('aaaaaaaaaaaaaaaa', 'acme', 'write', T0);
      const b = key('bbbbbbbbbbbbbbbb', 'other', 'admin', T0 + 1);
      await s.createApiKey(a);
      await s.createApiKey(b);
      expect(await s.apiKeyByHash(a.hash)).toEqual(a);
      expect(await s.apiKeyByHash('f'.repeat(64))).toBeUndefined();
      expect(await s.listApiKeys()).toEqual([a, b]);
      expect(await s.revokeApiKey(a.id, T0 + 100)).toBe(true);
      expect(await s.revokeApiKey(a.id, T0 + 200)).toBe(true); // the first revocation time stays
      expect(await s.revokeApiKey('cccccccccccccccc', T0)).toBe(false);
      expect(await s.apiKeyByHash(a.hash)).toEqual({ ...a, revokedMs: T0 + 100 });
      expect(await s.listApiKeys()).toEqual([{ ...a, revokedMs: T0 + 100 }, b]);
    });

    it('documents: put replaces, get, list by kind and tenant in (tenant, id) order, delete', async () => {
      const { store: s } = await fresh();
      const doc = (
        tenant: string,
        kind: string,
        id: string,
        body: string,
        updatedMs = T0,
      ): DocumentRecord => ({
        tenant,
        kind,
        id,
        body,
        updatedMs,
      });
      await s.putDocument(doc('b', 'setting', 'x', '{"v":1}'));
      await s.putDocument(doc('a', 'setting', 'y', '{"v":2}'));
      await s.putDocument(doc('a', 'setting', 'x', '{"v":3}'));
      await s.putDocument(doc('a', 'adhoc_profile', 'x', 'other kind'));
      await s.putDocument(doc('b', 'setting', 'x', `it's "quoted" \\ \n 🔥`, T0 + 5)); // replaces
      expect(await s.getDocument('b', 'setting', 'x')).toEqual(
        doc('b', 'setting', 'x', `it's "quoted" \\ \n 🔥`, T0 + 5),
      );
      expect(await s.getDocument('a', 'setting', 'nope')).toBeUndefined();
      expect(await s.getDocument('c', 'setting', 'x')).toBeUndefined();
      expect((await s.listDocuments('setting')).map((d) => `${d.tenant}/${d.id}=${d.body}`)).toEqual([
        'a/x={"v":3}',
        'a/y={"v":2}',
        `b/x=it's "quoted" \\ \n 🔥`,
      ]);
      expect(await s.listDocuments('setting', 'a')).toEqual([
        doc('a', 'setting', 'x', '{"v":3}'),
        doc('a', 'setting', 'y', '{"v":2}'),
      ]);
      expect(await s.listDocuments('adhoc_profile', 'b')).toEqual([]);
      expect(await s.deleteDocument('a', 'setting', 'x')).toBe(true);
      expect(await s.deleteDocument('a', 'setting', 'x')).toBe(false);
      expect(await s.deleteDocument('a', 'recording_rule', 'x')).toBe(false);
      expect(await s.getDocument('a', 'setting', 'x')).toBeUndefined();
      expect((await s.listDocuments('setting')).map((d) => `${d.tenant}/${d.id}`)).toEqual(['a/y', 'b/x']);
      expect(await s.getDocument('a', 'adhoc_profile', 'x')).toEqual(
        doc('a', 'adhoc_profile', 'x', 'other kind'),
      );
      // A put after a delete brings the document back.
      await s.putDocument(doc('a', 'setting', 'x', '{"v":4}', T0 + 9));
      expect(await s.getDocument('a', 'setting', 'x')).toEqual(doc('a', 'setting', 'x', '{"v":4}', T0 + 9));
    });

    describe('span profiles', () => {
      const A = 0x00000000000000a1n;
      const B = 0x00000000000000b2n;
      const TOP = 0xfedcba9876543210n; // top bit set: unsigned in every backend
      const T1 = 'ab'.repeat(16);
      const T2 = 'cd'.repeat(16);
      const base = { tenant: 'sp', profileTypeId: CPU, matchers: [], startMs: T0, endMs: T0 + 20_000 };

      beforeAll(async () => {
        await store.append(
          batchOf('sp', [
            {
              labels: apiEu,
              timeMs: T0,
              folded: { 'main;idle': 10 },
              spans: [
                { spanId: A, name: 'GET /car', traceId: T1, folded: { 'main;work': 30, 'main;idle': 1 } },
                { spanId: B, name: 'GET /bike', traceId: T1, folded: { 'main;work': 5 } },
              ],
            },
            {
              labels: apiEu,
              timeMs: T0 + 10_000,
              folded: { 'main;work': 2 },
              spans: [
                { spanId: A, name: 'GET /car', traceId: T1, folded: { 'main;io': 4 } },
                { spanId: TOP, name: '', traceId: T2, folded: { 'main;io': 50 } },
              ],
            },
            { labels: apiUs, timeMs: T0 + 20_000, folded: { 'main;work': 7 } },
          ]),
        );
      });

      it('a merge without a selector holds every sample, spans included; series do not multiply', async () => {
        expect(await foldedOf(store, await store.mergeStacks(base))).toEqual({
          'main;idle': 11,
          'main;work': 44,
          'main;io': 54,
        });
        const series = await store.series({ tenant: 'sp', selectors: [], ...range });
        expect(sortLabelSets(series)).toEqual(sortLabelSets([apiEu, apiUs]));
        expect(await store.labelNames({ tenant: 'sp', selectors: [], ...range })).not.toContain('span_id');
      });

      it('a span selector keeps exactly the samples of its spans, by span id or trace id', async () => {
        const merged = (spanIds: bigint[], traceIds: string[] = []) =>
          store.mergeStacks({ ...base, spans: { spanIds, traceIds } }).then((r) => foldedOf(store, r));
        expect(await merged([A])).toEqual({ 'main;work': 30, 'main;idle': 1, 'main;io': 4 });
        expect(await merged([B])).toEqual({ 'main;work': 5 });
        expect(await merged([A, B])).toEqual({ 'main;work': 35, 'main;idle': 1, 'main;io': 4 });
        expect(await merged([TOP])).toEqual({ 'main;io': 50 });
        expect(await merged([0x99n])).toEqual({});
        expect(await merged([], [T2])).toEqual({ 'main;io': 50 });
        expect(await merged([], [T1])).toEqual({ 'main;work': 35, 'main;idle': 1, 'main;io': 4 });
        expect(await merged([TOP], [T1])).toEqual({ 'main;work': 35, 'main;idle': 1, 'main;io': 54 });
        // The range and the matchers still apply.
        const first = await store.mergeStacks({ ...base, endMs: T0, spans: { spanIds: [A], traceIds: [] } });
        expect(await foldedOf(store, first)).toEqual({ 'main;work': 30, 'main;idle': 1 });
        const us = await store.mergeStacks({
          ...base,
          matchers: [m('region', '=', 'us')],
          spans: { spanIds: [A], traceIds: [T1] },
        });
        expect(await foldedOf(store, us)).toEqual({});
      });

      it('spans() sums per span, largest first, with name, trace, samples and time bounds', async () => {
        expect(await store.spans({ ...base, limit: 10 })).toEqual([
          {
            spanId: TOP,
            name: '',
            traceId: T2,
            total: 50,
            samples: 1,
            firstMs: T0 + 10_000,
            lastMs: T0 + 10_000,
          },
          {
            spanId: A,
            name: 'GET /car',
            traceId: T1,
            total: 35,
            samples: 3,
            firstMs: T0,
            lastMs: T0 + 10_000,
          },
          { spanId: B, name: 'GET /bike', traceId: T1, total: 5, samples: 1, firstMs: T0, lastMs: T0 },
        ]);
        expect((await store.spans({ ...base, limit: 1 })).map((s) => s.spanId)).toEqual([TOP]);
        expect((await store.spans({ ...base, endMs: T0, limit: 10 })).map((s) => s.spanId)).toEqual([A, B]);
        expect(await store.spans({ ...base, tenant: 't1', limit: 10 })).toEqual([]);
      });

      it('spanExemplars: the largest span of each series and step', async () => {
        const ex = await store.spanExemplars({ ...base, stepMs: 10_000, groupBy: [], aggregation: 'sum' });
        expect(ex.map((e) => [e.timestampMs, e.timeMs, e.spanId, e.name, e.traceId, e.total])).toEqual([
          [T0, T0, A, 'GET /car', T1, 31],
          [T0 + 10_000, T0 + 10_000, TOP, '', T2, 50],
        ]);
        expect(sortLabelSets(ex.map((e) => e.labels))).toEqual(sortLabelSets([apiEu, apiEu]));
        const wide = await store.spanExemplars({ ...base, stepMs: 60_000, groupBy: [], aggregation: 'sum' });
        expect(wide.map((e) => e.spanId)).toEqual([TOP]);
      });
    });

    describe('time series with a stack filter', () => {
      const base = {
        tenant: 'sf',
        profileTypeId: CPU,
        matchers: [],
        startMs: T0,
        endMs: T0 + 10_000,
        stepMs: 10_000,
        groupBy: [] as string[],
        aggregation: 'sum' as const,
      };
      /** A series as [[time offset from T0, value], ...], per group labels text. */
      const picture = async (q: Partial<TimeSeriesQuery>) =>
        Object.fromEntries(
          (await store.timeSeries({ ...base, ...q })).map((s) => [
            s.labels.map((l) => `${l.name}=${l.value}`).join(',') || '{}',
            Array.from(s.timestampsMs, (t, i) => [t - T0, s.values[i]]),
          ]),
        );

      beforeAll(async () => {
        await store.append(
          batchOf('sf', [
            {
              labels: apiEu,
              timeMs: T0,
              folded: { 'main;work;parse': 10, 'main;parse;work;parse': 5, 'main;idle': 3, parse: 2 },
              spans: [{ spanId: 7n, name: 'GET /', traceId: '', folded: { 'main;work;parse': 4 } }],
            },
            { labels: apiUs, timeMs: T0 + 10_000, folded: { 'main;work': 8, 'main;parse': 1 } },
            { labels: apiEu, timeMs: T0 + 10_000, folded: { 'main;idle': 6 } },
          ]),
        );
      });

      it('a function counts every stack holding it once (recursion too), span rows like others', async () => {
        expect(await picture({})).toEqual({
          '{}': [
            [0, 24],
            [10_000, 15],
          ],
        });
        // parse at T0: 10 + 5 (twice on its stack, counted once) + 2 + 4 (a span's samples).
        expect(await picture({ stacks: { functionName: 'parse' } })).toEqual({
          '{}': [
            [0, 21],
            [10_000, 1],
          ],
        });
        expect(await picture({ stacks: { functionName: 'work' } })).toEqual({
          '{}': [
            [0, 19],
            [10_000, 8],
          ],
        });
      });

      it('a function found nowhere gives no series; only steps holding it are points', async () => {
        expect(await picture({ stacks: { functionName: 'absent' } })).toEqual({});
        expect(await picture({ stacks: { functionName: 'parse' }, groupBy: ['region'] })).toEqual({
          'region=eu': [[0, 21]],
          'region=us': [[10_000, 1]],
        });
      });

      it('avg divides the filtered sum by every profile of the step', async () => {
        expect(await picture({ stacks: { functionName: 'parse' }, aggregation: 'avg' })).toEqual({
          '{}': [
            [0, 21],
            [10_000, 0.5],
          ],
        });
      });

      it('names are data, never query text: quotes, dollars, backslashes', async () => {
        const odd = "it's \\ $fn %";
        await store.append(
          batchOf('sfq', [{ labels: apiEu, timeMs: T0, folded: { [`main;${odd}`]: 3, 'main;x': 1 } }]),
        );
        expect(await picture({ tenant: 'sfq', stacks: { functionName: odd } })).toEqual({ '{}': [[0, 3]] });
        expect(await picture({ tenant: 'sfq', stacks: { callSite: ['main', odd] } })).toEqual({
          '{}': [[0, 3]],
        });
      });

      it('a call site keeps the stacks beginning with it at the root; both parts: both hold', async () => {
        expect(await picture({ stacks: { callSite: ['main', 'work'] } })).toEqual({
          '{}': [
            [0, 14],
            [10_000, 8],
          ],
        });
        expect(await picture({ stacks: { callSite: ['main', 'parse'] } })).toEqual({
          '{}': [
            [0, 5],
            [10_000, 1],
          ],
        });
        expect(await picture({ stacks: { callSite: ['parse'] } })).toEqual({ '{}': [[0, 2]] });
        expect(await picture({ stacks: { callSite: ['work'] } })).toEqual({});
        expect(await picture({ stacks: { callSite: ['main', 'work', 'parse', 'deeper'] } })).toEqual({});
        expect(await picture({ stacks: { functionName: 'parse', callSite: ['main', 'work'] } })).toEqual({
          '{}': [[0, 14]],
        });
      });
    });

    it.skipIf(!durable)('close and re-open of the same directory keeps everything', async () => {
      const dir = mkdtempSync(join(tmpdir(), `hotpath-store-${name}-restart-`));
      dirs.push(dir);
      const first = await open(dir);
      await first.init();
      await first.append(batchOf('r', [{ labels: apiEu, timeMs: T0, folded: { 'a;b': 3, 'a;c': 4 } }]));
      await first.close();
      await first.close(); // idempotent
      const second = await open(dir);
      await second.init();
      stores.push(second);
      const q = { tenant: 'r', profileTypeId: CPU, matchers: [], startMs: T0, endMs: T0 };
      expect(await foldedOf(second, await second.mergeStacks(q))).toEqual({ 'a;b': 3, 'a;c': 4 });
      expect(await second.series({ tenant: 'r', selectors: [], startMs: T0, endMs: T0 })).toEqual([apiEu]);
      // Appending after the restart with the same dictionary entries and series adds up.
      await second.append(batchOf('r', [{ labels: apiEu, timeMs: T0, folded: { 'a;b': 1 } }]));
      expect(await foldedOf(second, await second.mergeStacks(q))).toEqual({ 'a;b': 4, 'a;c': 4 });
      expect(await second.series({ tenant: 'r', selectors: [], startMs: T0, endMs: T0 })).toHaveLength(1);
    });

    it.skipIf(!durable)('spans survive a restart, and spans written after it stay apart', async () => {
      const dir = mkdtempSync(join(tmpdir(), `hotpath-store-${name}-spans-`));
      dirs.push(dir);
      const span = (spanId: bigint, folded: Record<string, number>) => ({
        spanId,
        name: '',
        traceId: '',
        folded,
      });
      const first = await open(dir);
      await first.init();
      await first.append(
        batchOf('r', [
          { labels: apiEu, timeMs: T0, folded: {}, spans: [span(1n, { 'a;b': 3 }), span(2n, { 'a;c': 4 })] },
        ]),
      );
      await first.close();
      const second = await open(dir);
      await second.init();
      stores.push(second);
      await second.append(
        batchOf('r', [{ labels: apiEu, timeMs: T0 + 1, folded: {}, spans: [span(3n, { 'a;d': 5 })] }]),
      );
      const q = { tenant: 'r', profileTypeId: CPU, matchers: [], startMs: T0, endMs: T0 + 1 };
      const of = async (spanIds: bigint[]) =>
        foldedOf(second, await second.mergeStacks({ ...q, spans: { spanIds, traceIds: [] } }));
      expect(await of([1n])).toEqual({ 'a;b': 3 });
      expect(await of([3n])).toEqual({ 'a;d': 5 });
      expect(await of([2n, 3n])).toEqual({ 'a;c': 4, 'a;d': 5 });
      expect((await second.spans({ ...q, limit: 10 })).map((x) => x.spanId)).toEqual([3n, 2n, 1n]);
    });

    it.skipIf(!durable)('API keys survive a restart', async () => {
      const dir = mkdtempSync(join(tmpdir(), `hotpath-store-${name}-keys-`));
      dirs.push(dir);
      const first = await open(dir);
      await first.init();
      const k: ApiKeyRecord = {
        id: '0123456789abcdef',
        hash: '0123456789abcdef'.repeat(4),
        tenant: 'acme',
        scope: 'read',
        name: '',
        createdMs: T0,
        revokedMs: 0,
      };
      await first.createApiKey(k);
      await first.close();
      const second = await open(dir);
      await second.init();
      stores.push(second);
      expect(await second.apiKeyByHash(k.hash)).toEqual(k);
    });

    it.skipIf(!durable)('documents survive a restart', async () => {
      const dir = mkdtempSync(join(tmpdir(), `hotpath-store-${name}-docs-`));
      dirs.push(dir);
      const first = await open(dir);
      await first.init();
      const kept: DocumentRecord = {
        tenant: 'acme',
        kind: 'setting',
        id: 'k',
        body: '{"a":1}',
        updatedMs: T0,
      };
      await first.putDocument(kept);
      await first.putDocument({ ...kept, id: 'gone' });
      await first.deleteDocument('acme', 'setting', 'gone');
      await first.close();
      const second = await open(dir);
      await second.init();
      stores.push(second);
      expect(await second.listDocuments('setting')).toEqual([kept]);
    });
    if (!durable)
      it.skip(`restart: skipped because the ${name} backend keeps data in memory only (durable: false)`, () => {});
  });
}
