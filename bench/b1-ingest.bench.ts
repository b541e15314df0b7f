// B1: ingest throughput per server core, end to end (HTTP → decode → validate → normalise → durable
// DuckDB commit), over loopback with concurrent clients, against a real `startServer` process.
// Shapes (BENCHMARKS.md): "python" = 1,000 samples over ~200 stacks of depth 20-40 with 5 thread
// label values and 3 series labels, sent as pyroscope-io ≥ 1.0 does (Connect Push, gzip);
// "wide" = 8,000 samples with long, high-entropy symbols (~4 MB gzip), sent to /ingest?format=pprof.
// Samples/s per core = pprof samples acknowledged / CPU-seconds (user+sys) of the server process.
// Run: `make bench B=b1` (B1_DRY=1 prints without recording; B1_SECONDS sets the window length).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, quantile, runLoad, shapes, startBenchServer, type LoadResult } from './lib/b1-load.ts';
import { machine, record } from './lib/results.ts';

async function main(): Promise<void> {
  const WINDOW_S = Number(process.env.B1_SECONDS ?? 4);
  const REPS = 5;
  const CLIENTS = 8;
  const now = Date.now();
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const shape of shapes(now)) {
    const profiles = shape.make();
    const bodies = profiles.map((p, i) => new Uint8Array(shape.encode(p.bytes, i)));
    const samplesPer = profiles[0]!.samples;
    const dataDir = mkdtempSync(join(tmpdir(), `hotpath-b1-${shape.name}-`));
    const server = await startBenchServer({ dataDir });
    console.error(
      `B1 ${shape.name}: ${bodies.length} bodies of ${bodies[0]!.length} bytes, server on port ${server.port}`,
    );
    try {
      const send = shape.send(server.port, bodies);
      await runLoad(send, 2, Date.now() + 1000, samplesPer); // warm-up
      const perCore: number[] = [];
      const wall: number[] = [];
      const all: LoadResult = { samples: 0, requests: 0, failures: 0, latenciesMs: [] };
      let cpuTotal = 0;
      for (let rep = 0; rep < REPS; rep++) {
        const cpu0 = server.cpuSeconds();
        const t0 = performance.now();
        const r = await runLoad(send, CLIENTS, Date.now() + WINDOW_S * 1000, samplesPer);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = server.cpuSeconds() - cpu0;
        cpuTotal += cpu;
        perCore.push(r.samples / cpu);
        wall.push(r.samples / seconds);
        all.samples += r.samples;
        all.requests += r.requests;
        all.failures += r.failures;
        all.latenciesMs.push(...r.latenciesMs);
        console.error(
          `  window ${rep + 1}: ${r.requests} requests, ${r.failures} failed, ${Math.round(r.samples / cpu)} samples per CPU-second`,
        );
      }
      const p99 = quantile(all.latenciesMs, 0.99);
      const med = median(perCore);
      const gzKb = bodies.reduce((a, b) => a + b.length, 0) / bodies.length / 1024;
      const rawKb = profiles.reduce((a, p) => a + p.bytes.length, 0) / profiles.length / 1024;
      rows.push(
        `| ${shape.name} | ${samplesPer} | ${gzKb.toFixed(0)} KiB gz / ${rawKb.toFixed(0)} KiB raw | ${Math.round(med).toLocaleString('en')} (${Math.round(Math.min(...perCore)).toLocaleString('en')}-${Math.round(Math.max(...perCore)).toLocaleString('en')}) | ${Math.round(median(wall)).toLocaleString('en')} | ${cpuTotal.toFixed(1)} | ${all.requests} / ${all.failures} | ${quantile(all.latenciesMs, 0.5).toFixed(0)} / ${p99.toFixed(0)} | ${shape.target.toLocaleString('en')} |`,
      );
      const met = med >= shape.target && all.failures === 0 && p99 < 1000;
      verdicts.push(
        `${shape.name}: **${met ? 'met' : 'not met'}** (${Math.round(med).toLocaleString('en')} samples/s per core, ${all.failures} failures, p99 ${p99.toFixed(0)} ms)`,
      );
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const m = machine();
  record(
    [
      '',
      `## B1 ingest throughput per core: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      `A real server process (startServer, embedded DuckDB, group commit 200 ms; pinned to CPU 0 with taskset) and ${CLIENTS} concurrent loopback clients in this process (CPU 1); ${REPS} windows of ${WINDOW_S} s per shape. Samples/s per core = pprof samples acknowledged with 200 (i.e. durable) / CPU-seconds (user+sys) of the server process, median (min-max) over the windows. python shape via Connect Push (gzip PushRequest, 5 thread_name values → 5 series per profile), wide shape via /ingest?format=pprof (raw gzip; the server's 4 MiB profile limit raised for it). The machine is shared with other work.`,
      '',
      '| shape | samples/profile | body | samples/s per core | samples/s wall | server CPU s | requests / failed | p50 / p99 ms | target per core |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Targets (≥ 500,000 python, ≥ 150,000 wide samples/s per core, zero drops, p99 < 1 s): ${verdicts.join('; ')}.`,
      '',
    ].join('\n'),
    'B1_DRY',
  );
}

await main();
