// Measures what bounded work per request buys (issue 11): /ready latency under 1,000 concurrent flame
// graph queries, the event-loop block and memory of a gzip-in-gzip bomb, and a 200 MB JSON body sent
// to a query method. Not a `make bench` target: run `npx tsx bench/edge-load.ts [repo root]`, the root
// choosing which tree's server is measured (e.g. a worktree of an older commit; default this one).
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { fork } from 'node:child_process';

const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const NOW = Date.now();
const STACKS = Number(process.env.EDGE_STACKS ?? 20_000);
const QUERIES = Number(process.env.EDGE_QUERIES ?? 1000);

// The server runs in a child process so the load generator's 1,000 sockets do not share its loop.
if (process.env.EDGE_ROLE === 'server') {
  const { buildServer } = await import(`${root}/packages/server/src/app.ts`);
  const { openMemoryStore } = await import(`${root}/packages/server/src/store/memory.ts`);
  const { batchOf } = await import(`${root}/packages/server/test/query-helpers.ts`);
  // One service, 60 profiles over the last hour, STACKS distinct stacks of depth 8-20 over 2,000 functions.
  let seed = 42;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const pool: string[] = [];
  for (let i = 0; i < STACKS; i++) {
    const depth = 8 + rnd(13);
    pool.push(Array.from({ length: depth }, () => `fn_${rnd(2000)}`).join(';'));
  }
  const profiles = Array.from({ length: 60 }, (_, p) => ({
    labels: { service_name: 'svc' },
    timeMs: NOW - (p + 1) * 60_000,
    folded: pool.filter((_, i) => i % 60 === p || i % 7 === p % 7).map((s) => `${s} ${1 + rnd(100)}`),
  }));
  const store = await openMemoryStore();
  await store.append(batchOf(profiles));
  const app = await buildServer({ store, logger: false, now: () => NOW });
  await app.listen({ port: 0, host: '127.0.0.1' });
  // Event-loop delay and peak memory between 'start' and 'stop' messages from the parent.
  let h = monitorEventLoopDelay({ resolution: 10 });
  let peakRss = 0;
  let peakHeap = 0;
  let base = { rss: 0, heap: 0 };
  let iv: NodeJS.Timeout | undefined;
  process.on('message', (m: string) => {
    if (m === 'start') {
      global.gc?.();
      const mu = process.memoryUsage();
      base = { rss: mu.rss, heap: mu.heapUsed };
      peakRss = mu.rss;
      peakHeap = mu.heapUsed;
      h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      iv = setInterval(() => {
        const u = process.memoryUsage();
        peakRss = Math.max(peakRss, u.rss);
        peakHeap = Math.max(peakHeap, u.heapUsed);
      }, 20);
    } else if (m === 'stop') {
      clearInterval(iv);
      h.disable();
      process.send!({
        maxDelayMs: h.max / 1e6,
        rssMB: (peakRss - base.rss) / 1e6,
        heapMB: (peakHeap - base.heap) / 1e6,
      });
    }
  });
  process.send!({ port: (app.server.address() as { port: number }).port });
  await new Promise(() => {});
}

const child = fork(new URL(import.meta.url).pathname, process.argv.slice(2), {
  env: { ...process.env, EDGE_ROLE: 'server' },
  execArgv: [...process.execArgv, '--expose-gc'],
});
const fromChild = () => new Promise<any>((ok) => child.once('message', ok));
const { port } = await fromChild();
const measure = async <T>(work: () => Promise<T>) => {
  child.send('start');
  const result = await work();
  child.send('stop');
  return { result, ...(await fromChild()) } as {
    result: T;
    maxDelayMs: number;
    rssMB: number;
    heapMB: number;
  };
};
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

/** One request on its own connection; resolves with status and ms. */
function send(
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
  agent: Agent | false = false,
) {
  return new Promise<{ status: number; ms: number }>((ok) => {
    const t = performance.now();
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, ms: performance.now() - t }));
    });
    req.on('error', () => ok({ status: -1, ms: performance.now() - t }));
    req.end(body);
  });
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const round = (x: number) => Math.round(x);

// 1. /ready under QUERIES concurrent flame graph queries.
const flame = Buffer.from(
  JSON.stringify({
    profileTypeID: CPU,
    labelSelector: '{}',
    start: NOW - 3_600_000,
    end: NOW,
    maxNodes: 8192,
  }),
);
const single = await send('POST', '/querier.v1.QuerierService/SelectMergeStacktraces', flame, {
  'content-type': 'application/json',
});
console.log(`one flame graph query alone: ${round(single.ms)} ms (status ${single.status})`);
// /ready goes over one keep-alive connection opened before the load, so the probe measures the
// server's event loop, not the kernel's accept backlog (1,000 connects at once overflow it).
const readyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
await send('GET', '/ready', undefined, {}, readyAgent);
const started = performance.now();
const queries = Array.from({ length: QUERIES }, () =>
  send('POST', '/querier.v1.QuerierService/SelectMergeStacktraces', flame, {
    'content-type': 'application/json',
  }),
);
const readyMs: number[] = [];
let done = false;
void Promise.all(queries).then(() => (done = true));
while (!done && performance.now() - started < 30_000) {
  const r = await send('GET', '/ready', undefined, {}, readyAgent);
  readyMs.push(r.ms);
  await new Promise((w) => setTimeout(w, 100));
}
const results = await Promise.all(queries);
const byStatus = new Map<number, number>();
for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
console.log(
  `${QUERIES} concurrent queries over ${STACKS} stacks: all answered in ${round(performance.now() - started)} ms, statuses ${JSON.stringify(Object.fromEntries(byStatus))}`,
);
console.log(
  `/ready during the load (${readyMs.length} probes): median ${round(pct(readyMs, 0.5))} ms, p99 ${round(pct(readyMs, 0.99))} ms, max ${round(Math.max(...readyMs))} ms`,
);

// 2. gzip-in-gzip bomb on /ingest: one, then eight at once.
const bomb = gzipSync(gzipSync(Buffer.alloc(256 * 1024 * 1024)));
for (const n of [1, 8]) {
  const t = performance.now();
  const m = await measure(() =>
    Promise.all(Array.from({ length: n }, () => send('POST', '/ingest?name=bomb.cpu&format=pprof', bomb))),
  );
  console.log(
    `${n} × gzip bomb (${bomb.length} B): status ${m.result.map((r) => r.status).join(',')}, ${round(performance.now() - t)} ms, server max event-loop delay ${round(m.maxDelayMs)} ms, server RSS +${round(m.rssMB)} MB`,
  );
}

// 3. A 200 MB JSON body to a query method.
{
  const body = Buffer.from(JSON.stringify({ labelSelector: '{}', pad: 'x'.repeat(200 * 1024 * 1024) }));
  const m = await measure(() =>
    send('POST', '/querier.v1.QuerierService/SelectMergeStacktraces', body, {
      'content-type': 'application/json',
    }),
  );
  console.log(
    `200 MB JSON to SelectMergeStacktraces: status ${m.result.status}, ${round(m.result.ms)} ms, server max event-loop delay ${round(m.maxDelayMs)} ms, server heap +${round(m.heapMB)} MB`,
  );
}
child.kill();
process.exit(0);
