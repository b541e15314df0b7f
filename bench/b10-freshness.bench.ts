// B10: push-to-queryable latency under B1 load. A real server process takes the python-shape load
// (4 concurrent Push clients); once a second a marker profile with its own service_name is pushed
// and /pyroscope/render is polled (every 10 ms) until the marker's ticks appear. Latency = from
// sending the push to the first render that shows it. Run: `make bench B=b10` (B10_DRY=1: no record).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pushBody, pythonShapePprof, quantile, runLoad, startBenchServer } from './lib/b1-load.ts';
import { machine, record } from './lib/results.ts';

const MARKERS = Number(process.env.B10_MARKERS ?? 30);
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b10-'));
  const server = await startBenchServer({ dataDir });
  const base = `http://127.0.0.1:${server.port}`;
  const now = Date.now();
  const load = Array.from({ length: 8 }, (_, i) =>
    gzipSync(
      pushBody(
        { __name__: 'process_cpu', service_name: `bench-python-${i % 4}`, region: 'eu-north', version: '1' },
        pythonShapePprof(1 + i, now).bytes,
      ),
    ),
  );
  const push = async (body: Uint8Array<ArrayBuffer>) => {
    const res = await fetch(`${base}/push.v1.PusherService/Push`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const marker = pythonShapePprof(999, now).bytes;
  const latencies: number[] = [];
  let loadRequests = 0;
  let loadFailures = 0;
  try {
    const stopAt = Date.now() + (MARKERS + 5) * 1000;
    const loadDone = runLoad((i) => push(load[i % load.length]!), 4, stopAt, 1000).then((r) => {
      loadRequests = r.requests;
      loadFailures = r.failures;
    });
    for (let m = 0; m < MARKERS; m++) {
      await new Promise((r) => setTimeout(r, 1000));
      const service = `marker-${m}`;
      const t0 = performance.now();
      const pushed = push(gzipSync(pushBody({ __name__: 'process_cpu', service_name: service }, marker)));
      const query = `${base}/pyroscope/render?query=${encodeURIComponent(`${CPU}{service_name="${service}"}`)}&from=now-1h&until=now%2B1h&format=json`;
      for (;;) {
        const res = await fetch(query);
        const json = (await res.json()) as { flamebearer?: { numTicks?: number } };
        if ((json.flamebearer?.numTicks ?? 0) > 0) break;
        if (performance.now() - t0 > 30_000) throw new Error(`marker ${m} not queryable after 30 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      latencies.push(performance.now() - t0);
      if ((await pushed) !== 200) throw new Error(`marker ${m} push failed`);
    }
    await loadDone;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  const m = machine();
  record(
    [
      '',
      `## B10 push-to-queryable: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      `A real server process (embedded DuckDB, group commit 200 ms) under python-shape load (4 concurrent Push clients: ${loadRequests} requests, ${loadFailures} failed); ${latencies.length} marker profiles, one a second, each polled through GET /pyroscope/render every 10 ms until it shows. The machine is shared with other work.`,
      '',
      '| markers | p50 ms | p99 ms | max ms |',
      '|---|---|---|---|',
      `| ${latencies.length} | ${p50.toFixed(0)} | ${p99.toFixed(0)} | ${Math.max(...latencies).toFixed(0)} |`,
      '',
      `Target p99 push-to-queryable < 1 s: **${p99 < 1000 ? 'met' : 'not met'}** (p99 ${p99.toFixed(0)} ms).`,
      '',
    ].join('\n'),
    'B10_DRY',
  );
}

await main();
