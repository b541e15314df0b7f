// B11: soak with a hostile client. Well-behaved clients push the B1 python shape (Connect Push, gzip)
// at a fixed rate while one hostile client cycles through gzip bombs, gzip-in-gzip, catastrophic
// regex selectors against long label values it wrote, a 200 MB JSON body to a query method,
// overflowing values, slow-body sockets and deep JSON. Measures push p50/p99, /ready p99 (polled
// every 100 ms), server RSS over time, acknowledged profiles vs what a final query finds, and 5xx.
// Run: `make bench B=soak` (B11_SECONDS, default 600; B11_RATE pushes/s, default 100;
// B11_AUTH=keys starts the server with API keys and sends its bootstrap admin key; B11_DRY=1 prints
// without recording).

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { importPprof } from '@hotpath/core';
import { pushBody, pythonShapePprof, quantile, spawnPinned } from './lib/b1-load.ts';
import { machine, record } from './lib/results.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SERVICES = 4;
/** Per-request client timeout: an answer later than this counts as a hang. */
const CLIENT_TIMEOUT_MS = 30_000;

interface Served {
  child: ChildProcess;
  port: number;
  key?: string;
}

/** A real startServer process (pinned to CPU 0 when taskset exists), default limits, optional keys. */
async function startSoakServer(dataDir: string, auth: string | undefined): Promise<Served> {
  const self = new URL(import.meta.url).pathname;
  const child = spawnPinned(['--import', 'tsx', self, '--serve', JSON.stringify({ dataDir, auth })]);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) key=(\S*)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), key: m[2] === '' ? undefined : m[2] });
    });
    child.on('exit', (code) => reject(new Error(`soak server exited ${code}: ${out}`)));
  });
}

/** The server's own pid (taskset execs node in place, so the child's pid is the server's). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Tally {
  statuses: Map<number, number>;
  dropped: number;
  hangs: number;
}

function count(t: Tally, status: number): void {
  t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
}

function fivexx(t: Tally): number {
  let n = 0;
  for (const [s, c] of t.statuses) if (s >= 500) n += c;
  return n;
}

async function main(): Promise<void> {
  const SECONDS = Number(process.env.B11_SECONDS ?? 600);
  const RATE = Number(process.env.B11_RATE ?? 100);
  // Each push waits for its group commit (up to 200 ms), so the rate needs about RATE × 0.3 pushes
  // in flight: fewer clients would cap it below RATE (8 clients top out near 30 pushes/s).
  const CLIENTS = Math.max(8, Math.ceil(RATE * 0.4));
  const auth = process.env.B11_AUTH;
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b11-'));
  const server = await startSoakServer(dataDir, auth);
  const base = `http://127.0.0.1:${server.port}`;
  const authz: Record<string, string> = server.key ? { authorization: `Bearer ${server.key}` } : {};
  const pid = server.child.pid!;
  console.error(
    `B11: server pid ${pid} on port ${server.port}, ${SECONDS} s at ${RATE} pushes/s${auth ? `, auth ${auth}` : ''}`,
  );

  const inFlight = new Map<string, number>();
  const send = async (url: string, init: RequestInit, tally: Tally): Promise<number> => {
    const key = url.split('?')[0]!;
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    try {
      const res = await fetch(`${base}${url}`, {
        ...init,
        headers: { ...authz, ...(init.headers as Record<string, string>) },
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      count(tally, res.status);
      return res.status;
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') tally.hangs++;
      else tally.dropped++;
      return 0;
    } finally {
      inFlight.set(key, inFlight.get(key)! - 1);
    }
  };

  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  const stopAt = started + SECONDS * 1000;
  const good: Tally = { statuses: new Map(), dropped: 0, hangs: 0 };
  const hostile: Tally = { statuses: new Map(), dropped: 0, hangs: 0 };
  const ready: Tally = { statuses: new Map(), dropped: 0, hangs: 0 };

  // Well-behaved: request i is due at started + i / RATE; profiles are re-stamped every second so
  // each push is a distinct profile in time.
  const pushLatencies: number[] = [];
  const expected = new Array<number>(SERVICES).fill(0);
  let stamped = { second: -1, bodies: [] as { body: Uint8Array<ArrayBuffer>; total: number }[] };
  const bodiesFor = (second: number) => {
    if (stamped.second !== second) {
      const bodies = Array.from({ length: SERVICES }, (_, s) => {
        const p = pythonShapePprof(1 + s, started + second * 1000);
        const total = importPprof(p.bytes).profiles.reduce(
          (a, prof) => a + prof.samples.value.reduce((x, y) => x + y, 0),
          0,
        );
        const body = gzipSync(
          pushBody(
            { __name__: 'process_cpu', service_name: `b11-py-${s}`, region: 'eu-north', version: '1.0.0' },
            p.bytes,
          ),
        );
        return { body: new Uint8Array(body), total };
      });
      stamped = { second, bodies };
    }
    return stamped.bodies;
  };
  let next = 0;
  const wellBehaved = async () => {
    while (true) {
      const i = next++;
      const due = started + (i * 1000) / RATE;
      // Bounded run: nothing is sent after stopAt, even when the server fell behind the rate.
      if (due >= stopAt || Date.now() >= stopAt) return;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const s = i % SERVICES;
      const { body, total } = bodiesFor(Math.floor((due - started) / 1000))[s]!;
      const t0 = performance.now();
      const status = await send(
        '/push.v1.PusherService/Push',
        {
          method: 'POST',
          headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
          body,
        },
        good,
      );
      pushLatencies.push(performance.now() - t0);
      if (status === 200) expected[s]! += total;
    }
  };

  // /ready every 100 ms.
  const readyLatencies: number[] = [];
  const pollReady = async () => {
    while (Date.now() < stopAt) {
      const t0 = performance.now();
      await send('/ready', { method: 'GET' }, ready);
      readyLatencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - t0))));
    }
  };

  // RSS once a second.
  const rss: { s: number; mib: number }[] = [];
  const sampleRss = async () => {
    while (Date.now() < stopAt) {
      rss.push({ s: (Date.now() - started) / 1000, mib: rssMiB(pid) });
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  // Hostile client: attacks in a cycle, one at a time, counted by kind.
  const zeros = Buffer.alloc(256 * 1024 * 1024);
  const bomb = gzipSync(zeros, { level: 9 });
  const bombInBomb = gzipSync(bomb, { level: 9 });
  const longValue = 'a'.repeat(1000) + '!';
  const hugeJson = Buffer.concat([
    Buffer.from('{"labelSelector":"'),
    Buffer.alloc(200 * 1024 * 1024, 'a'),
    Buffer.from('"}'),
  ]);
  const deepJson = Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000));
  const evil = pythonShapePprof(99, started);
  const evilPush = gzipSync(
    pushBody({ __name__: 'process_cpu', service_name: 'b11-evil', path: longValue }, evil.bytes),
  );
  const q = (m: string) => `/querier.v1.QuerierService/${m}`;
  const json = { 'content-type': 'application/json' };
  const attacks: [string, () => Promise<number>][] = [
    [
      'write a long label value',
      () =>
        send(
          '/push.v1.PusherService/Push',
          {
            method: 'POST',
            headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
            body: evilPush,
          },
          hostile,
        ),
    ],
    [
      'gzip bomb to /ingest',
      () =>
        send(
          '/ingest?name=b11-bomb&format=pprof',
          { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bomb },
          hostile,
        ),
    ],
    [
      'gzip bomb to Push',
      () =>
        send(
          '/push.v1.PusherService/Push',
          {
            method: 'POST',
            headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
            body: bomb,
          },
          hostile,
        ),
    ],
    [
      'gzip-in-gzip to Push',
      () =>
        send(
          '/push.v1.PusherService/Push',
          {
            method: 'POST',
            headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
            body: bombInBomb,
          },
          hostile,
        ),
    ],
    [
      'catastrophic regex (SelectMergeStacktraces)',
      () =>
        send(
          q('SelectMergeStacktraces'),
          {
            method: 'POST',
            headers: json,
            body: JSON.stringify({
              profileTypeID: CPU,
              labelSelector: '{service_name="b11-evil",path=~"(a+)+$"}',
              start: String(started - 3_600_000),
              end: String(Date.now()),
            }),
          },
          hostile,
        ),
    ],
    [
      'catastrophic regex (LabelValues)',
      () =>
        send(
          q('LabelValues'),
          {
            method: 'POST',
            headers: json,
            body: JSON.stringify({
              name: 'path',
              matchers: ['{path=~"(a|aa)+$"}'],
              start: String(started - 3_600_000),
              end: String(Date.now()),
            }),
          },
          hostile,
        ),
    ],
    [
      '200 MB JSON to SelectMergeStacktraces',
      () => send(q('SelectMergeStacktraces'), { method: 'POST', headers: json, body: hugeJson }, hostile),
    ],
    [
      'deep JSON to SelectSeries',
      () => send(q('SelectSeries'), { method: 'POST', headers: json, body: deepJson }, hostile),
    ],
    [
      'overflowing values (render)',
      () =>
        send(
          `/pyroscope/render?query=${encodeURIComponent(`${CPU}{}`)}&from=1e400&until=99999999999999999999&maxNodes=1e400`,
          { method: 'GET' },
          hostile,
        ),
    ],
    [
      'overflowing values (SelectMergeStacktraces)',
      () =>
        send(
          q('SelectMergeStacktraces'),
          {
            method: 'POST',
            headers: json,
            body: `{"profileTypeID":"${CPU}","labelSelector":"{}","start":"-9223372036854775809","end":1e400,"maxNodes":"99999999999999999999"}`,
          },
          hostile,
        ),
    ],
    [
      'overflowing values (ingest)',
      () =>
        send(
          '/ingest?name=b11-over&sampleRate=1e400&from=-1e400&until=NaN',
          {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: 'a;b 1e400\na;c -99999999999999999999',
          },
          hostile,
        ),
    ],
  ];
  const attackCounts = new Map<string, Map<number, number>>();
  const runHostile = async () => {
    for (let k = 0; Date.now() < stopAt; k++) {
      const [name, attack] = attacks[k % attacks.length]!;
      const status = await attack();
      const m = attackCounts.get(name) ?? new Map<number, number>();
      m.set(status, (m.get(status) ?? 0) + 1);
      attackCounts.set(name, m);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  // Slow-body clients: 16 sockets promising 1 MB and sending a byte a second, reopened when closed.
  let slowClosedByServer = 0;
  const slowSockets = new Set<ReturnType<typeof connect>>();
  const openSlow = () => {
    if (Date.now() >= stopAt) return;
    const sock = connect(server.port, '127.0.0.1');
    slowSockets.add(sock);
    const auth = server.key ? `authorization: Bearer ${server.key}\r\n` : '';
    sock.write(
      `POST /ingest?name=b11-slow HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\n${auth}content-length: 1048576\r\n\r\n`,
    );
    const timer = setInterval(() => sock.write('a'), 1000);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      slowSockets.delete(sock);
      if (Date.now() < stopAt) {
        slowClosedByServer++;
        setTimeout(openSlow, 1000);
      }
    });
  };
  for (let i = 0; i < 16; i++) openSlow();

  // Progress on stderr every 10 s: what is in flight, so a stall shows where it is.
  const progress = setInterval(() => {
    const busy = [...inFlight].filter(([, n]) => n > 0).map(([k, n]) => `${k}×${n}`);
    process.stderr.write(
      `B11: ${((Date.now() - started) / 1000).toFixed(0)} s, pushes sent ${next}, in flight: ${busy.join(' ') || 'none'}\n`,
    );
  }, 10_000);
  await Promise.all([
    ...Array.from({ length: CLIENTS }, wellBehaved),
    pollReady(),
    sampleRss(),
    runHostile(),
  ]);
  clearInterval(progress);
  for (const s of slowSockets) s.destroy();
  process.stderr.write(
    `B11: load done after ${((Date.now() - started) / 1000).toFixed(0)} s; final queries\n`,
  );

  // Everything acknowledged must be found: the sum of each service's pushes over the whole run.
  const found: number[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const query = encodeURIComponent(`${CPU}{service_name="b11-py-${s}"}`);
    const t0 = performance.now();
    const res = await fetch(
      `${base}/pyroscope/render?query=${query}&from=${started - 3_600_000}&until=${Date.now() + 60_000}&maxNodes=1`,
      { headers: authz, signal: AbortSignal.timeout(120_000) },
    );
    process.stderr.write(
      `B11: final query of b11-py-${s}: ${res.status} in ${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    found.push(
      res.status === 200
        ? ((await res.json()) as { flamebearer: { numTicks: number } }).flamebearer.numTicks
        : NaN,
    );
  }
  const acknowledged = good.statuses.get(200) ?? 0;
  const lostTicks = expected.reduce((a, e, s) => a + Math.max(0, e - (found[s] ?? 0)), 0);
  const extraTicks = expected.reduce((a, e, s) => a + Math.max(0, (found[s] ?? 0) - e), 0);
  const lostProfiles = lostTicks / (expected.reduce((a, b) => a + b, 0) / Math.max(1, acknowledged));

  await new Promise<void>((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.on('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
  rmSync(dataDir, { recursive: true, force: true });

  const at = (f: number) => rss[Math.min(rss.length - 1, Math.floor(f * (rss.length - 1)))]?.mib ?? NaN;
  const rssStart = at(0.05);
  const rssMid = at(0.5);
  const rssEnd = at(1);
  const statusList = (t: Tally) =>
    [...t.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, c]) => `${s}×${c}`)
      .join(', ') +
    (t.dropped ? `, dropped×${t.dropped}` : '') +
    (t.hangs ? `, no answer in ${CLIENT_TIMEOUT_MS / 1000} s×${t.hangs}` : '');
  const p99Push = quantile(pushLatencies, 0.99);
  const p99Ready = quantile(readyLatencies, 0.99);
  const total5xx = fivexx(good) + fivexx(hostile) + fivexx(ready);
  const flat = rssEnd <= rssStart * 1.25;
  const m = machine();
  const rows = [...attackCounts.entries()].map(
    ([name, st]) =>
      `| ${name} | ${[...st.entries()].map(([s, c]) => `${s === 0 ? 'no answer/dropped' : s}×${c}`).join(', ')} |`,
  );
  // Met only if the server kept up with the rate: a server that falls behind answers fewer, later pushes.
  const keptUp = pushLatencies.length >= 0.99 * Math.floor(SECONDS * RATE);
  const met = keptUp && p99Push < 1000 && p99Ready < 100 && flat && lostProfiles < 0.5 && total5xx === 0;
  record(
    [
      '',
      `## B11 soak with a hostile client: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      `A real server process (startServer, embedded DuckDB, default limits${auth ? `, auth ${auth}` : ''}; pinned to CPU 0 with taskset) for ${SECONDS} s. ${CLIENTS} well-behaved loopback clients push the B1 python shape (Connect Push, gzip, 1,000 samples, ${SERVICES} services) at ${RATE} pushes/s; /ready polled every 100 ms; one hostile client cycles through the attacks below (one every 0.5 s after the previous answers) and keeps 16 slow-body sockets open (1 byte/s of a promised 1 MiB). Load average at the start: ${loadAtStart.toFixed(2)}.`,
      '',
      '| measure | value | target |',
      '|---|---|---|',
      `| push p50 / p99 ms | ${quantile(pushLatencies, 0.5).toFixed(0)} / ${p99Push.toFixed(0)} | p99 < 1,000 |`,
      `| pushes: due / sent / statuses | ${Math.floor(SECONDS * RATE)} / ${pushLatencies.length} / ${statusList(good)} | all sent, all 200 |`,
      `| /ready p50 / p99 ms | ${quantile(readyLatencies, 0.5).toFixed(1)} / ${p99Ready.toFixed(1)} (${statusList(ready)}) | p99 < 100 |`,
      `| server RSS MiB start / middle / end (max) | ${rssStart.toFixed(0)} / ${rssMid.toFixed(0)} / ${rssEnd.toFixed(0)} (${Math.max(...rss.map((r) => r.mib)).toFixed(0)}) | flat |`,
      `| acknowledged profiles / lost (by value) / extra value found | ${acknowledged} / ${lostProfiles.toFixed(1)} / ${extraTicks} | 0 lost |`,
      `| 5xx (all clients) | ${total5xx} | 0 |`,
      `| slow-body sockets closed by the server | ${slowClosedByServer} | > 0 |`,
      '',
      '| hostile request | statuses |',
      '|---|---|',
      ...rows,
      '',
      `B11: **${met ? 'met' : 'not met'}** (p99 push ${p99Push.toFixed(0)} ms, /ready p99 ${p99Ready.toFixed(1)} ms, RSS ${rssStart.toFixed(0)} → ${rssEnd.toFixed(0)} MiB, ${lostProfiles.toFixed(1)} profiles lost, ${total5xx} 5xx).`,
      '',
    ].join('\n'),
    'B11_DRY',
  );
}

/** The server side: startServer with default limits (no series cap) and, with auth 'keys', its bootstrap key. */
async function serve(options: { dataDir: string; auth?: 'keys' | 'none' }): Promise<void> {
  const { startServer } = await import('../packages/server/src/main.ts');
  const running = await startServer({
    port: 0,
    dataDir: options.dataDir,
    logger: false,
    handleSignals: true,
    ...(options.auth ? { auth: options.auth } : {}),
    limits: { maxSeriesPerTenant: 0 },
  });
  process.stdout.write(`listening on ${running.url} key=${running.bootstrapKey?.key ?? ''}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3]!));
  else await main();
}
