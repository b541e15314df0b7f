// B1 on the scale-out backend, beside the embedded one: ingest throughput per server core, end to end
// (HTTP → decode → validate → normalise → group commit → acknowledged by the store), with the same
// payload shapes as b1-ingest.bench.ts: "python" = 1,000 samples over ~200 stacks of depth 20-40,
// 5 thread_name values, 3 series labels, via Connect Push (gzip); "wide" = 8,000 samples with long
// high-entropy symbols (~4 MB gzip) via /ingest?format=pprof. Two real server processes (startServer
// with --store duckdb and --store clickhouse, the latter against a clickhouse-server started on
// loopback for the run), loaded in turn A B A B over 5 windows per shape by 8 concurrent clients.
// Samples/s per core = samples acknowledged (200) / CPU-seconds of the Hotpath process; for ClickHouse
// also per CPU-second of Hotpath + clickhouse-server together (the honest cost of the pair).
// Run: `make bench B=b1-ingest-clickhouse` (B1CH_DRY=1 prints without recording; B1CH_SECONDS sets the
// window length).

import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClickHouse } from '../packages/server/test/support/clickhouse.ts';
import {
  cpuSecondsOf,
  median,
  quantile,
  runLoad,
  shapes,
  startBenchServer,
  type BenchServer,
  type LoadResult,
} from './lib/b1-load.ts';
import { machine, record } from './lib/results.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const range = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;

async function main(): Promise<void> {
  const WINDOW_S = Number(process.env.B1CH_SECONDS ?? 4);
  const REPS = 5;
  const CLIENTS = 8;
  const now = Date.now();
  const ch = await startClickHouse();
  const chPid = Number(
    execSync(`pgrep -f -- "--config-file=${ch.dir}/config.xml"`).toString().trim().split('\n')[0],
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b1ch-'));
  const servers: (BenchServer & { name: string })[] = [];
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    servers.push({ ...(await startBenchServer({ store: 'duckdb', dataDir })), name: 'duckdb' });
    servers.push({
      ...(await startBenchServer({ store: 'clickhouse', clickhouseUrl: ch.url })),
      name: 'clickhouse',
    });
    for (const shape of shapes(now)) {
      const profiles = shape.make();
      const bodies = profiles.map((p, i) => new Uint8Array(shape.encode(p.bytes, i)));
      const samplesPer = profiles[0]!.samples;
      const stats = new Map(
        servers.map((s) => [
          s.name,
          {
            perCore: [] as number[],
            perPairCore: [] as number[],
            wall: [] as number[],
            cpu: 0,
            chCpu: 0,
            all: { samples: 0, requests: 0, failures: 0, latenciesMs: [] } as LoadResult,
          },
        ]),
      );
      for (const s of servers) await runLoad(shape.send(s.port, bodies), 2, Date.now() + 1000, samplesPer); // warm-up
      for (let rep = 0; rep < REPS; rep++) {
        for (const s of servers) {
          const st = stats.get(s.name)!;
          const cpu0 = cpuSecondsOf(s.pid);
          const ch0 = cpuSecondsOf(chPid);
          const t0 = performance.now();
          const r = await runLoad(
            shape.send(s.port, bodies),
            CLIENTS,
            Date.now() + WINDOW_S * 1000,
            samplesPer,
          );
          const seconds = (performance.now() - t0) / 1000;
          const cpu = cpuSecondsOf(s.pid) - cpu0;
          const chCpu = cpuSecondsOf(chPid) - ch0;
          st.cpu += cpu;
          st.chCpu += chCpu;
          st.perCore.push(r.samples / cpu);
          st.perPairCore.push(r.samples / (cpu + chCpu));
          st.wall.push(r.samples / seconds);
          st.all.samples += r.samples;
          st.all.requests += r.requests;
          st.all.failures += r.failures;
          st.all.latenciesMs.push(...r.latenciesMs);
        }
      }
      const gzKb = bodies.reduce((a, b) => a + b.length, 0) / bodies.length / 1024;
      for (const s of servers) {
        const st = stats.get(s.name)!;
        const p99 = quantile(st.all.latenciesMs, 0.99);
        const pair = s.name === 'clickhouse' ? range(st.perPairCore) : '-';
        rows.push(
          `| ${shape.name} | ${s.name} | ${gzKb.toFixed(0)} KiB gz | ${range(st.perCore)} | ${pair} | ${fmt(median(st.wall))} | ${st.cpu.toFixed(1)} | ${s.name === 'clickhouse' ? st.chCpu.toFixed(1) : '-'} | ${st.all.requests} / ${st.all.failures} | ${quantile(st.all.latenciesMs, 0.5).toFixed(0)} / ${p99.toFixed(0)} | ${fmt(shape.target)} |`,
        );
        console.log(rows[rows.length - 1]);
        const met = median(st.perCore) >= shape.target && st.all.failures === 0 && p99 < 1000;
        verdicts.push(
          `${shape.name} on ${s.name}: **${met ? 'met' : 'not met'}** (${fmt(median(st.perCore))} samples/s per Hotpath core, ${st.all.failures} failures, p99 ${p99.toFixed(0)} ms)`,
        );
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    await ch.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const m = machine();
  const text = [
    '',
    `## B1 ingest throughput per core, embedded vs ClickHouse: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
    '',
    `Two real server processes (startServer: --store duckdb, and --store clickhouse against Debian's clickhouse-server 18.16 on loopback; group commit 200 ms; Hotpath pinned to CPU 0 with taskset, ClickHouse not pinned), ${CLIENTS} concurrent loopback clients in this process, ${REPS} windows of ${WINDOW_S} s per shape, the two servers loaded in turn. Samples/s per core = pprof samples acknowledged with 200 / CPU-seconds (user+sys) of the Hotpath process, median (min-max) over the windows; "with CH" divides by Hotpath + clickhouse-server CPU-seconds. Same shapes as b1-ingest.bench.ts. The machine is shared with other work (load average well above 2 during the run), so absolute figures are pessimistic; the side-by-side ratio is the point.`,
    '',
    '| shape | store | body | samples/s per Hotpath core | per core with CH | samples/s wall | Hotpath CPU s | CH CPU s | requests / failed | p50 / p99 ms | target per core |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Targets (≥ 500,000 python, ≥ 150,000 wide samples/s per core, zero drops, p99 < 1 s): ${verdicts.join('; ')}.`,
    '',
  ].join('\n');
  record(text, 'B1CH_DRY');
}

await main();
