// SelectSeries with a stack selection: the store's timeSeries over the B3 "service" data (24 h of 10 s
// profiles, ~8.6 M samples over a 20,000-stack tree of depth up to 40), one point per 5 min, without a
// filter, with a function found in most stacks, with a rare one, and with a two-frame call site.
// One cold run, then REPS warm runs: median (min-max) ms. Run: `make bench B=series-filter`
// (SERIES_FILTER_STORES=memory,duckdb,clickhouse picks backends, default all three; SERIES_FILTER_DRY=1 prints without recording).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { openMemoryStore } from '../packages/server/src/store/memory.ts';
import { ClickHouseStore } from '../packages/server/src/store/clickhouse.ts';
import { startClickHouse } from '../packages/server/test/support/clickhouse.ts';
import type { StackFilter, Store } from '../packages/server/src/store/types.ts';
import { CPU, END, HOUR, REPS, fillService } from './lib/b3-data.ts';
import { loadAverage, machine, record } from './lib/results.ts';

/** Function f of the B3 tree, as fillService names it (low f are drawn far more often). */
const fn = (f: number) => `rideshare/pkg${f % 53}.(*Handler${f % 11}).Method${f}`;
const CASES: readonly { name: string; stacks?: StackFilter }[] = [
  { name: 'no filter' },
  { name: 'common function', stacks: { functionName: fn(0) } },
  { name: 'rare function', stacks: { functionName: fn(1500) } },
  { name: 'call site (2 frames)', stacks: { callSite: [fn(0), fn(0)] } },
];

/** Stops the clickhouse-server of the run, if one was started. */
let stopClickHouse = async () => {};

/** A clickhouse-server on loopback for the run, with a fresh store on it. */
async function openClickHouse(): Promise<Store> {
  const ch = await startClickHouse();
  stopClickHouse = () => ch.stop();
  const store = new ClickHouseStore({ url: ch.url, database: 'hotpath' });
  await store.init();
  return store;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
for (const backend of (process.env.SERIES_FILTER_STORES ?? 'memory,duckdb,clickhouse').split(',')) {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-series-filter-'));
  try {
    const store: Store =
      backend === 'duckdb'
        ? await openDuckDBStore({ dataDir: dir })
        : backend === 'clickhouse'
          ? await openClickHouse()
          : await openMemoryStore();
    const samples = await fillService(store);
    console.log(`${backend}: ${samples} samples`);
    for (const c of CASES) {
      const run = async () => {
        const t = performance.now();
        const series = await store.timeSeries({
          tenant: 'anonymous',
          profileTypeId: CPU,
          matchers: [],
          startMs: END - 24 * HOUR,
          endMs: END,
          stepMs: 300_000,
          groupBy: [],
          aggregation: 'sum',
          ...(c.stacks !== undefined ? { stacks: c.stacks } : {}),
        });
        const total = series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
        return { ms: performance.now() - t, points: series[0]?.values.length ?? 0, total };
      };
      const cold = await run();
      const warm: number[] = [];
      for (let r = 0; r < REPS; r++) warm.push((await run()).ms);
      rows.push(
        `| ${backend} | ${c.name} | ${cold.points} | ${(cold.total / 1e9).toFixed(0)} s | ${cold.ms.toFixed(0)} | ${median(warm).toFixed(0)} (${Math.min(...warm).toFixed(0)}-${Math.max(...warm).toFixed(0)}) |`,
      );
      console.log(rows[rows.length - 1]);
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
await stopClickHouse();

const m = machine();
record(
  `
## SelectSeries stack selection (timeSeries, 24 h of B3 "service", 5 min steps) — ${m.date}, ${m.commit}

${m.cores} cores of ${m.cpu}, load ${loadAverage()}. Cold run, then ${REPS} warm runs: median (min-max) ms.

| store | selection | points | sum | cold ms | warm ms |
|---|---|---|---|---|---|
${rows.join('\n')}
`,
  'SERIES_FILTER_DRY',
);
