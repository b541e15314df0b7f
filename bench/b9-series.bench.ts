// B9: server heap per active series. An in-process server (buildServer, embedded DuckDB) receives
// Push requests of 500 series each (8 labels per series, one 10-sample profile per series, shared
// stacks) up to 1k, 10k and 50k series of one tenant; heap is measured after a full GC (v8
// heapUsed, JS objects only; DuckDB's native memory is reported apart as RSS). Per series =
// (heap − heap before the first series) / series. Run: `make bench B=b9` (B9_DRY=1: no record).
// Steady state right after ingest; the benchmark does not hold the series active for a full hour.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { encodePprof, makeProfileType, ProfileBuilder } from '@hotpath/core';
import { ProtoWriter } from '../packages/server/src/connect/wire.ts';
import { buildServer } from '../packages/server/src/app.ts';
import { resolveLimits } from '../packages/server/src/limits.ts';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { machine, record } from './lib/results.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

function smallPprof(timeMs: number): Uint8Array {
  const b = new ProfileBuilder([makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds')], {
    timeNs: timeMs * 1e6,
    period: 10_000_000,
  });
  const f = Array.from({ length: 12 }, (_, i) => b.frame(`app.handler_${i}`, `/srv/app/h${i}.py`));
  for (let s = 0; s < 10; s++)
    b.sample(b.stackOf([f[0]!, f[1 + (s % 5)]!, f[6 + (s % 6)]!]), [(s + 1) * 10_000_000]);
  return encodePprof(b.build());
}

function pushOf(from: number, count: number, profile: Uint8Array): Buffer {
  const w = new ProtoWriter();
  for (let i = from; i < from + count; i++) {
    w.message(1, (sw) => {
      const labels: [string, string][] = [
        ['__name__', 'process_cpu'],
        ['service_name', `svc-${i % 50}`],
        ['pod', `pod-${i}`],
        ['namespace', `ns-${i % 20}`],
        ['region', ['eu-north', 'us-east', 'ap-south'][i % 3]!],
        ['version', `1.${i % 7}.0`],
        ['node', `node-${i % 100}`],
        ['container', 'app'],
      ];
      for (const [n, v] of labels) sw.message(1, (lw) => lw.string(1, n).string(2, v));
      sw.message(2, (rw) => rw.bytes(1, profile));
    });
  }
  return gzipSync(w.finish());
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b9-'));
  const store = await openDuckDBStore({ dataDir });
  const app = await buildServer({
    store,
    limits: resolveLimits({ maxSeriesPerTenant: 0 }),
    groupCommit: { intervalMs: 50 },
  });
  const profile = smallPprof(Date.now());
  // Warm up code paths with one request of an unrelated tenant.
  await app.inject({
    method: 'POST',
    url: '/push.v1.PusherService/Push',
    headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip', 'x-scope-orgid': 'warmup' },
    payload: pushOf(0, 10, profile),
  });
  const before = heapAfterGc();
  const rows: string[] = [];
  const perSeries: number[] = [];
  let sent = 0;
  for (const target of [1_000, 10_000, 50_000]) {
    while (sent < target) {
      const n = Math.min(500, target - sent);
      const res = await app.inject({
        method: 'POST',
        url: '/push.v1.PusherService/Push',
        headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
        payload: pushOf(sent, n, profile),
      });
      if (res.statusCode !== 200) throw new Error(`push failed: ${res.statusCode} ${res.body}`);
      sent += n;
    }
    const heap = heapAfterGc();
    const per = (heap - before) / target;
    perSeries.push(per);
    rows.push(
      `| ${target.toLocaleString('en')} | ${((heap - before) / 1048576).toFixed(1)} | ${Math.round(per).toLocaleString('en')} | ${(process.memoryUsage().rss / 1048576).toFixed(0)} |`,
    );
    console.error(`B9: ${target} series, ${Math.round(per)} B heap per series`);
  }
  await app.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  const worst = Math.max(...perSeries);
  const m = machine();
  record(
    [
      '',
      `## B9 server heap per active series: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      "In-process server (buildServer + embedded DuckDB), Push requests of 500 series each, 8 labels per series (plus the 6 the server adds), one 10-sample profile per series. Heap = v8 heapUsed after full GCs minus the heap before the first series; it covers the store's series cache, the write path's active-series limiter and everything else the server keeps per series. RSS (incl. DuckDB's native buffers) for reference. Measured right after ingest, not after an hour of activity.",
      '',
      '| active series | heap growth MiB | heap bytes per series | RSS MiB |',
      '|---|---|---|---|',
      ...rows,
      '',
      `Target ≤ 2 KB (2,048 B) of server heap per active series: **${worst <= 2048 ? 'met' : 'not met'}** (worst ${Math.round(worst).toLocaleString('en')} B).`,
      '',
    ].join('\n'),
    'B9_DRY',
  );
}

await main();
