// The B3 query data and query, shared by b3-query.bench.ts and b3-query-clickhouse.bench.ts so both
// fill every store with the same seeded profiles and time the same SelectMergeStacktraces request.
import { functionId, labelsFromRecord, stackId } from '../../packages/core/src/index.ts';
import type { buildServer } from '../../packages/server/src/app.ts';
import type {
  FunctionRecord,
  ProfileRecord,
  StackRecord,
  Store,
} from '../../packages/server/src/store/types.ts';
import { rng } from './rng.ts';

export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
export const REPS = 5;
export const MAX_NODES = 8192;
export const HOUR = 3_600_000;
/** The end of the data: 2026-05-25T00:00:00Z. */
export const END = Date.UTC(2026, 4, 25);

const labelsOf = (service: string) =>
  labelsFromRecord({
    __name__: 'process_cpu',
    __profile_type__: CPU,
    service_name: service,
    region: 'eu-north',
  });

/** Appends 24 h of 10 s profiles for "service" in 1 h batches; returns the sample count. */
export async function fillService(store: Store): Promise<number> {
  const rand = rng(7);
  const FUNCTIONS = 2000;
  const POOL = 20_000;
  const fnIds: bigint[] = [];
  const functions: FunctionRecord[] = [];
  for (let f = 0; f < FUNCTIONS; f++) {
    const name = `rideshare/pkg${f % 53}.(*Handler${f % 11}).Method${f}`;
    const id = functionId(name, `pkg${f % 53}/file${f % 17}.py`);
    fnIds.push(id);
    functions.push({ id, name, file: `pkg${f % 53}/file${f % 17}.py` });
  }
  const ids = new BigUint64Array(POOL);
  const depth = new Int32Array(POOL);
  const stacks: StackRecord[] = [];
  for (let i = 0; i < POOL; i++) {
    const p = i < 8 ? -1 : i - 1 - Math.floor(rand() * Math.min(i, 64));
    const parent = p < 0 || depth[p]! >= 40 ? -1 : p;
    depth[i] = parent < 0 ? 1 : depth[parent]! + 1;
    const fn = fnIds[Math.floor(FUNCTIONS * rand() ** 3)]!;
    const parentId = parent < 0 ? 0n : ids[parent]!;
    ids[i] = stackId(parentId, fn);
    stacks.push({ id: ids[i]!, parentId, functionId: fn });
  }
  let samples = 0;
  const PROFILES = 8640;
  const PER_BATCH = 360;
  for (let b = 0; b < PROFILES / PER_BATCH; b++) {
    const profiles: ProfileRecord[] = [];
    for (let k = 0; k < PER_BATCH; k++) {
      const i = b * PER_BATCH + k;
      const sums = new Map<number, number>();
      for (let s = 0; s < 1000; s++) {
        const idx = Math.floor(POOL * rand() ** 2);
        sums.set(idx, (sums.get(idx) ?? 0) + 10_000_000 * (1 + Math.floor(rand() * 5)));
      }
      const stackIds = new BigUint64Array(sums.size);
      const values = new Float64Array(sums.size);
      let n = 0;
      for (const [idx, v] of sums) {
        stackIds[n] = ids[idx]!;
        values[n++] = v;
      }
      samples += n;
      profiles.push({
        tenant: 'anonymous',
        labels: labelsOf('service'),
        timeMs: END - 24 * HOUR + i * 10_000,
        stackIds,
        values,
      });
    }
    await store.append({ profiles, functions: b === 0 ? functions : [], stacks: b === 0 ? stacks : [] });
  }
  return samples;
}

/** Appends 3,000 profiles in the last hour for "wide", 3 M distinct stacks in all. */
export async function fillWide(store: Store): Promise<number> {
  const fn = (name: string): FunctionRecord => ({ id: functionId(name, 'wide.py'), name, file: 'wide.py' });
  const root = fn('main');
  const as = Array.from({ length: 100 }, (_, i) => fn(`route_${i}`));
  const bs = Array.from({ length: 1000 }, (_, i) => fn(`handler_${i}`));
  const cs = Array.from({ length: 30 }, (_, i) => fn(`leaf_${i}`));
  const rootId = stackId(0n, root.id);
  const aIds = as.map((a) => stackId(rootId, a.id));
  let total = 0;
  const PER_PROFILE = 1000;
  const PER_BATCH = 100;
  let k = 0; // path number 0 .. 3 M - 1 = a · 30,000 + b · 30 + c
  for (let batch = 0; batch < 3000 / PER_BATCH; batch++) {
    const stacks: StackRecord[] =
      batch === 0
        ? [
            { id: rootId, parentId: 0n, functionId: root.id },
            ...aIds.map((id, i) => ({ id, parentId: rootId, functionId: as[i]!.id })),
          ]
        : [];
    const profiles: ProfileRecord[] = [];
    for (let p = 0; p < PER_BATCH; p++) {
      const stackIds = new BigUint64Array(PER_PROFILE);
      const values = new Float64Array(PER_PROFILE);
      for (let s = 0; s < PER_PROFILE; s++, k++) {
        const a = Math.floor(k / 30_000);
        const b = Math.floor(k / 30) % 1000;
        const c = k % 30;
        const abId = stackId(aIds[a]!, bs[b]!.id);
        if (c === 0) stacks.push({ id: abId, parentId: aIds[a]!, functionId: bs[b]!.id });
        const id = stackId(abId, cs[c]!.id);
        stacks.push({ id, parentId: abId, functionId: cs[c]!.id });
        stackIds[s] = id;
        values[s] = 10_000_000 * (1 + (k % 7));
      }
      total += PER_PROFILE;
      const i = batch * PER_BATCH + p;
      profiles.push({
        tenant: 'anonymous',
        labels: labelsOf('wide'),
        timeMs: END - HOUR + i * 1200,
        stackIds,
        values,
      });
    }
    await store.append({ profiles, functions: batch === 0 ? [root, ...as, ...bs, ...cs] : [], stacks });
  }
  return total;
}

export interface Case {
  label: string;
  service: string;
  rangeMs: number;
  targetMs: number;
}
export const CASES: Case[] = [
  { label: '1 h (360 profiles)', service: 'service', rangeMs: HOUR, targetMs: 50 },
  { label: '24 h (8,640 profiles)', service: 'service', rangeMs: 24 * HOUR, targetMs: 500 },
  { label: '3 M unique stacks (1 h)', service: 'wide', rangeMs: HOUR, targetMs: 2000 },
];

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const spread = (xs: number[]) =>
  `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

export interface QueryTiming {
  /** Server time of the request, ms (inject round trip). */
  ms: number;
  /** This process's user + system CPU during the request, ms. */
  cpuMs: number;
  /** `otherCpuSec` after minus before the request, s (0 without it). */
  otherCpuSec: number;
  /** Flame graph nodes in the response. */
  nodes: number;
  /** The flame graph total, as the response states it. */
  total: string;
  /** Response body length, characters of JSON. */
  bytes: number;
}

/**
 * Times one SelectMergeStacktraces request for case `c` on `app`; `otherCpuSec` reads a second
 * process's CPU seconds (e.g. clickhouse-server) just before the clock starts and once the response is parsed.
 */
export async function timeQuery(
  app: Awaited<ReturnType<typeof buildServer>>,
  name: string,
  c: Case,
  otherCpuSec?: () => number,
): Promise<QueryTiming> {
  const body = JSON.stringify({
    profileTypeID: CPU,
    labelSelector: `{service_name="${c.service}"}`,
    start: END - c.rangeMs,
    end: END,
    maxNodes: MAX_NODES,
  });
  const cpu0 = process.cpuUsage();
  const other0 = otherCpuSec?.() ?? 0;
  const t = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: '/querier.v1.QuerierService/SelectMergeStacktraces',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  if (res.statusCode !== 200)
    throw new Error(`${name} ${c.label}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`);
  const fg = JSON.parse(res.body).flamegraph as { levels: { values: string[] }[]; total: string };
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    otherCpuSec: (otherCpuSec?.() ?? 0) - other0,
    nodes: fg.levels.reduce((s, l) => s + l.values.length / 4, 0),
    total: fg.total,
    bytes: res.body.length,
  };
}

/** The store's own sum per stack for case `c`, ms (no stack resolution, tree or encoding). */
export async function timeMergeStacks(store: Store, c: Case): Promise<number> {
  const tm = performance.now();
  await store.mergeStacks({
    tenant: 'anonymous',
    profileTypeId: CPU,
    matchers: [{ name: 'service_name', op: '=', value: c.service }],
    startMs: END - c.rangeMs,
    endMs: END,
  });
  return performance.now() - tm;
}
