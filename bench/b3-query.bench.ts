// B3 (end to end): flame graph query server time over a range, through buildServer + inject of
// querier.v1.QuerierService/SelectMergeStacktraces (JSON, maxNodes 8,192): store sum per stack,
// stack resolution, tree, truncation, encoding. Targets (BENCHMARKS.md): 1 h < 50 ms, 24 h < 500 ms,
// 3 M unique stacks < 2 s. Data from a fixed seed, written through the store's append:
//   - "service": 24 h of 10 s profiles (8,640), ~1,000 distinct stacks each (~8.6 M samples), drawn
//     with skew from a 20,000-stack call tree over 2,000 functions (depth up to 40);
//   - "wide": 3,000 profiles in 1 h with 1,000 stacks each, all 3 M distinct (100 × 1,000 × 30 paths).
// Each store gets one cold query (empty stack cache), then >= 5 warm repetitions: median (min-max).
// B3_STORES=memory,duckdb picks backends (default both); B3_DRY=1 prints without recording.
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionId, labelsFromRecord, stackId } from '../packages/core/src/index.ts';
import { buildServer } from '../packages/server/src/app.ts';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { openMemoryStore } from '../packages/server/src/store/memory.ts';
import type { FunctionRecord, ProfileRecord, StackRecord, Store } from '../packages/server/src/store/types.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const REPS = 5;
const MAX_NODES = 8192;
const HOUR = 3_600_000;
/** The end of the data: 2026-05-25T00:00:00Z. */
const END = Date.UTC(2026, 4, 25);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const labelsOf = (service: string) => labelsFromRecord({ __name__: 'process_cpu', __profile_type__: CPU, service_name: service, region: 'eu-north' });

/** Appends 24 h of 10 s profiles for "service" in 1 h batches; returns the sample count. */
async function fillService(store: Store): Promise<number> {
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
      profiles.push({ tenant: 'anonymous', labels: labelsOf('service'), timeMs: END - 24 * HOUR + i * 10_000, stackIds, values });
    }
    await store.append({ profiles, functions: b === 0 ? functions : [], stacks: b === 0 ? stacks : [] });
  }
  return samples;
}

/** Appends 3,000 profiles in the last hour for "wide", 3 M distinct stacks in all. */
async function fillWide(store: Store): Promise<number> {
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
    const stacks: StackRecord[] = batch === 0 ? [{ id: rootId, parentId: 0n, functionId: root.id }, ...aIds.map((id, i) => ({ id, parentId: rootId, functionId: as[i]!.id }))] : [];
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
      profiles.push({ tenant: 'anonymous', labels: labelsOf('wide'), timeMs: END - HOUR + i * 1200, stackIds, values });
    }
    await store.append({ profiles, functions: batch === 0 ? [root, ...as, ...bs, ...cs] : [], stacks });
  }
  return total;
}

interface Case {
  label: string;
  service: string;
  rangeMs: number;
  targetMs: number;
}
const CASES: Case[] = [
  { label: '1 h (360 profiles)', service: 'service', rangeMs: HOUR, targetMs: 50 },
  { label: '24 h (8,640 profiles)', service: 'service', rangeMs: 24 * HOUR, targetMs: 500 },
  { label: '3 M unique stacks (1 h)', service: 'wide', rangeMs: HOUR, targetMs: 2000 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

const rows: string[] = [];
const verdicts: string[] = [];
const backends = (process.env.B3_STORES ?? 'memory,duckdb').split(',');
for (const backend of backends) {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-b3-'));
  try {
    const store: Store = backend === 'duckdb' ? await openDuckDBStore({ dataDir: dir }) : await openMemoryStore();
    const t0 = performance.now();
    const serviceSamples = await fillService(store);
    const wideSamples = await fillWide(store);
    const fillSec = (performance.now() - t0) / 1000;
    console.log(`${backend}: appended ${serviceSamples} + ${wideSamples} samples in ${fillSec.toFixed(1)} s`);
    const app = await buildServer({ store, now: () => END, logger: false });
    for (const c of CASES) {
      const body = JSON.stringify({
        profileTypeID: CPU,
        labelSelector: `{service_name="${c.service}"}`,
        start: END - c.rangeMs,
        end: END,
        maxNodes: MAX_NODES,
      });
      const query = async (): Promise<{ ms: number; cpuMs: number; nodes: number; total: string; bytes: number }> => {
        const cpu0 = process.cpuUsage();
        const t = performance.now();
        const res = await app.inject({ method: 'POST', url: '/querier.v1.QuerierService/SelectMergeStacktraces', headers: { 'content-type': 'application/json' }, payload: body });
        const ms = performance.now() - t;
        const cpu = process.cpuUsage(cpu0);
        if (res.statusCode !== 200) throw new Error(`${c.label}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
        const fg = JSON.parse(res.body).flamegraph as { levels: { values: string[] }[]; total: string };
        return { ms, cpuMs: (cpu.user + cpu.system) / 1000, nodes: fg.levels.reduce((s, l) => s + l.values.length / 4, 0), total: fg.total, bytes: res.body.length };
      };
      const mergeMs: number[] = [];
      const cold = await query();
      const warm: number[] = [];
      let cpuMs = 0;
      let last = cold;
      for (let r = 0; r < REPS; r++) {
        last = await query();
        warm.push(last.ms);
        cpuMs += last.cpuMs;
        const tm = performance.now();
        await store.mergeStacks({ tenant: 'anonymous', profileTypeId: CPU, matchers: [{ name: 'service_name', op: '=', value: c.service }], startMs: END - c.rangeMs, endMs: END });
        mergeMs.push(performance.now() - tm);
      }
      const ok = median(warm) < c.targetMs;
      verdicts.push(`${backend} ${c.label}: ${median(warm).toFixed(0)} ms vs < ${c.targetMs} ms ${ok ? 'met' : 'not met'}`);
      rows.push(
        `| ${backend} | ${c.label} | ${cold.ms.toFixed(0)} | ${spread(warm)} | ${spread(mergeMs)} | ${(cpuMs / REPS).toFixed(0)} | ${last.nodes} | ${(last.bytes / 1024).toFixed(0)} KiB | < ${c.targetMs} ms: ${ok ? 'met' : 'not met'} |`,
      );
      console.log(rows[rows.length - 1]);
    }
    await app.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const date = new Date().toISOString().slice(0, 10);
const commit = execSync('git rev-parse --short HEAD').toString().trim();
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const text = [
  '',
  `## B3 flame graph query (end to end): ${date}, commit ${commit}, ${cpus().length} × ${cpu}, Node ${process.version}`,
  '',
  `Server time of \`SelectMergeStacktraces\` (JSON, maxNodes ${MAX_NODES}) through \`buildServer\` + \`inject\`: the store's sum per stack, stack resolution (cached after the cold query), tree, truncation and encoding. "service": 24 h of 10 s profiles, ~1,000 stacks each (8.6 M samples); "wide": 3,000 profiles with 3 M distinct stacks. Cold = first query on the store (empty stack cache); warm = ${REPS} repetitions, ms median (min-max); "store sum" = \`store.mergeStacks\` alone.`,
  '',
  '| store | case | cold ms | warm ms | store sum ms | CPU ms / query | nodes out | JSON | target |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `Verdicts (warm median): ${verdicts.join('; ')}.`,
  '',
].join('\n');
const resultsPath = new URL('./RESULTS.md', import.meta.url).pathname;
if (!process.env.B3_DRY) execSync(`flock /tmp/results.lock sh -c 'cat >> "${resultsPath}"'`, { input: text });
console.log(text);
