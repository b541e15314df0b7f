// B3 on the scale-out backend: the same flame graph queries as b3-query.bench.ts (same seeded data:
// "service" = 24 h of 10 s profiles, ~1,000 stacks each, 8.6 M samples; "wide" = 3,000 profiles with
// 3 M distinct stacks), server time of querier.v1.QuerierService/SelectMergeStacktraces (JSON,
// maxNodes 8,192) through buildServer + inject, on the embedded DuckDB store and on ClickHouse (a
// clickhouse-server started on loopback for the run, the Debian 18.16 build here), interleaved
// A B A B per case: one cold query each (empty stack cache), then 5 warm repetitions per store.
// Also the store's own mergeStacks, the fill time, ClickHouse's CPU time and its bytes on disk.
// Targets (BENCHMARKS.md): 1 h < 50 ms, 24 h < 500 ms, 3 M unique stacks < 2 s.
// B3CH_DRY=1 prints without recording.
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../packages/server/src/app.ts';
import { ClickHouseStore } from '../packages/server/src/store/clickhouse.ts';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import type { Store } from '../packages/server/src/store/types.ts';
import { startClickHouse } from '../packages/server/test/support/clickhouse.ts';
import {
  CASES,
  END,
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

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Backend {
  name: string;
  store: Store;
  app: Awaited<ReturnType<typeof buildServer>>;
  fillSec: number;
}

const dir = mkdtempSync(join(tmpdir(), 'hotpath-b3ch-'));
const ch = await startClickHouse();
const chPid = Number(
  execSync(`pgrep -f -- "--config-file=${ch.dir}/config.xml"`).toString().trim().split('\n')[0],
);
const backends: Backend[] = [];
const rows: string[] = [];
const verdicts: string[] = [];
const notes: string[] = [];
try {
  const stores: [string, () => Promise<Store>][] = [
    ['duckdb', () => openDuckDBStore({ dataDir: dir })],
    [
      'clickhouse',
      async () => {
        const s = new ClickHouseStore({ url: ch.url, database: 'hotpath' });
        await s.init();
        return s;
      },
    ],
  ];
  for (const [name, open] of stores) {
    const store = await open();
    const cpu0 = cpuSecondsOf(chPid);
    const t0 = performance.now();
    const serviceSamples = await fillService(store);
    const wideSamples = await fillWide(store);
    const fillSec = (performance.now() - t0) / 1000;
    const line = `${name}: appended ${serviceSamples} + ${wideSamples} samples in ${fillSec.toFixed(1)} s (${((serviceSamples + wideSamples) / fillSec / 1e6).toFixed(2)} M samples/s through store.append)${name === 'clickhouse' ? `, ClickHouse CPU ${(cpuSecondsOf(chPid) - cpu0).toFixed(1)} s` : ''}`;
    console.log(line);
    notes.push(line);
    backends.push({ name, store, app: await buildServer({ store, now: () => END, logger: false }), fillSec });
  }
  const bytes = execSync(
    `curl -s --data-binary "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE database = 'hotpath' AND active GROUP BY table ORDER BY table FORMAT TSV" ${ch.url}`,
  )
    .toString()
    .trim();
  notes.push(
    `ClickHouse bytes on disk (table, rows, bytes): ${bytes
      .split('\n')
      .map((l) => l.split('\t').join(' '))
      .join('; ')}`,
  );

  for (const c of CASES) {
    const query = async (b: Backend) => {
      const q = await timeQuery(b.app, b.name, c, () => cpuSecondsOf(chPid));
      return { ...q, chCpuMs: q.otherCpuSec * 1000 };
    };
    const res = new Map<
      string,
      {
        cold: number;
        warm: number[];
        merge: number[];
        cpu: number;
        chCpu: number;
        nodes: number;
        total: string;
      }
    >();
    for (const b of backends) {
      const cold = await query(b);
      res.set(b.name, {
        cold: cold.ms,
        warm: [],
        merge: [],
        cpu: 0,
        chCpu: 0,
        nodes: cold.nodes,
        total: cold.total,
      });
    }
    for (let r = 0; r < REPS; r++) {
      for (const b of backends) {
        const acc = res.get(b.name)!;
        const q = await query(b);
        acc.warm.push(q.ms);
        acc.cpu += q.cpuMs;
        acc.chCpu += q.chCpuMs;
        acc.merge.push(await timeMergeStacks(b.store, c));
      }
    }
    const totals = new Set([...res.values()].map((v) => v.total));
    if (totals.size !== 1)
      throw new Error(`${c.label}: the stores disagree on the total: ${[...totals].join(' vs ')}`);
    for (const b of backends) {
      const a = res.get(b.name)!;
      const ok = median(a.warm) < c.targetMs;
      verdicts.push(
        `${b.name} ${c.label}: ${median(a.warm).toFixed(0)} ms vs < ${c.targetMs} ms ${ok ? 'met' : 'not met'}`,
      );
      rows.push(
        `| ${b.name} | ${c.label} | ${a.cold.toFixed(0)} | ${spread(a.warm)} | ${spread(a.merge)} | ${(a.cpu / REPS).toFixed(0)} | ${b.name === 'clickhouse' ? (a.chCpu / REPS).toFixed(0) : '-'} | ${a.nodes} | < ${c.targetMs} ms: ${ok ? 'met' : 'not met'} |`,
      );
      console.log(rows[rows.length - 1]);
    }
  }
} finally {
  for (const b of backends) {
    await b.app.close();
    await b.store.close();
  }
  await ch.stop();
  rmSync(dir, { recursive: true, force: true });
}

const m = machine();
const text = [
  '',
  `## B3 flame graph query, embedded vs ClickHouse: ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Node ${process.version}`,
  '',
  `Server time of \`SelectMergeStacktraces\` (JSON, maxNodes ${MAX_NODES}) through \`buildServer\` + \`inject\`, the same seeded data in both stores (b3-query.bench.ts): "service" 24 h of 10 s profiles (8.6 M samples), "wide" 3,000 profiles with 3 M distinct stacks. ClickHouse 18.16 (Debian) on loopback, same 2 cores, max_threads 2. Cold = first query (empty stack cache); warm = ${REPS} repetitions interleaved duckdb/clickhouse, ms median (min-max); "store sum" = \`store.mergeStacks\` alone; CPU = Node process per query; CH CPU = clickhouse-server per query.`,
  '',
  ...notes.map((n) => `- ${n}`),
  '',
  '| store | case | cold ms | warm ms | store sum ms | CPU ms / query | CH CPU ms / query | nodes out | target |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `Verdicts (warm median): ${verdicts.join('; ')}.`,
  '',
].join('\n');
record(text, 'B3CH_DRY');
