// B3 (end to end): flame graph query server time over a range, through buildServer + inject of
// querier.v1.QuerierService/SelectMergeStacktraces (JSON, maxNodes 8,192): store sum per stack,
// stack resolution, tree, truncation, encoding. Targets (BENCHMARKS.md): 1 h < 50 ms, 24 h < 500 ms,
// 3 M unique stacks < 2 s. Data from a fixed seed, written through the store's append:
//   - "service": 24 h of 10 s profiles (8,640), ~1,000 distinct stacks each (~8.6 M samples), drawn
//     with skew from a 20,000-stack call tree over 2,000 functions (depth up to 40);
//   - "wide": 3,000 profiles in 1 h with 1,000 stacks each, all 3 M distinct (100 × 1,000 × 30 paths).
// Each store gets one cold query (empty stack cache), then >= 5 warm repetitions: median (min-max).
// B3_STORES=memory,duckdb picks backends (default both); B3_DRY=1 prints without recording.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../packages/server/src/app.ts';
import { DuckDBStore, openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { openMemoryStore } from '../packages/server/src/store/memory.ts';
import type { Store } from '../packages/server/src/store/types.ts';
import {
  CASES,
  END,
  HOUR,
  fillService,
  fillWide,
  MAX_NODES,
  median,
  REPS,
  spread,
  timeMergeStacks,
  timeQuery,
} from './lib/b3-data.ts';
import { machine, record } from './lib/results.ts';

const rows: string[] = [];
const verdicts: string[] = [];
const backends = (process.env.B3_STORES ?? 'memory,duckdb').split(',');
for (const backend of backends) {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-b3-'));
  try {
    const store: Store =
      backend === 'duckdb' ? await openDuckDBStore({ dataDir: dir }) : await openMemoryStore();
    const t0 = performance.now();
    const serviceSamples = await fillService(store);
    const wideSamples = await fillWide(store);
    const fillSec = (performance.now() - t0) / 1000;
    console.log(`${backend}: appended ${serviceSamples} + ${wideSamples} samples in ${fillSec.toFixed(1)} s`);
    if (store instanceof DuckDBStore) {
      // A live store has rolled up every hour that ended (every 5 min); the fill was all at once.
      const tr = performance.now();
      await store.rollUp(END + HOUR);
      console.log(
        `${backend}: hourly rollup of the fill in ${((performance.now() - tr) / 1000).toFixed(1)} s`,
      );
    }
    const app = await buildServer({ store, now: () => END, logger: false });
    for (const c of CASES) {
      const mergeMs: number[] = [];
      const cold = await timeQuery(app, backend, c);
      const warm: number[] = [];
      let cpuMs = 0;
      let last = cold;
      for (let r = 0; r < REPS; r++) {
        last = await timeQuery(app, backend, c);
        warm.push(last.ms);
        cpuMs += last.cpuMs;
        mergeMs.push(await timeMergeStacks(store, c));
      }
      const ok = median(warm) < c.targetMs;
      verdicts.push(
        `${backend} ${c.label}: ${median(warm).toFixed(0)} ms vs < ${c.targetMs} ms ${ok ? 'met' : 'not met'}`,
      );
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

const m = machine();
const text = [
  '',
  `## B3 flame graph query (end to end): ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Node ${process.version}`,
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
record(text, 'B3_DRY');
