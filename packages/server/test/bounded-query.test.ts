// Bounded work per query: the query body limit (before and after decompression), the JSON nesting
// limit, the query gate (429 too_many_queries with Retry-After) and the per-query deadline (504).
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.ts';
import { resolveLimits, type Limits } from '../src/limits.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import type { MergedStacks, Store } from '../src/store/types.ts';
import { CPU, HOUR, NOW, batchOf } from './query-helpers.ts';

const MiB = 1024 * 1024;
const FLAME = '/querier.v1.QuerierService/SelectMergeStacktraces';
const flameRequest = { profileTypeID: CPU, labelSelector: '{}', start: NOW - HOUR, end: NOW };

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(
  opts: { limits?: Partial<Limits>; now?: () => number; wrap?: (s: Store) => Store } = {},
): Promise<FastifyInstance> {
  const store = await openMemoryStore();
  await store.append(
    batchOf([{ labels: { service_name: 'svc' }, timeMs: NOW - 60_000, folded: ['a;b 3', 'a;c 2'] }]),
  );
  app = await buildServer({
    store: opts.wrap ? opts.wrap(store) : store,
    limits: resolveLimits(opts.limits),
    now: opts.now ?? (() => NOW),
    logger: false,
  });
  return app;
}

const postJson = (a: FastifyInstance, url: string, payload: Buffer | string, headers = {}) =>
  a.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

/** A store whose mergeStacks waits until `release()`: queries stay running as long as the test wants. */
function blockingStore(): { wrap: (s: Store) => Store; release: () => void; started: () => number } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const wrap = (s: Store): Store =>
    new Proxy(s, {
      get(target, prop, receiver) {
        if (prop === 'mergeStacks')
          return async (q: Parameters<Store['mergeStacks']>[0]): Promise<MergedStacks> => {
            started++;
            await gate;
            return target.mergeStacks(q);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return { wrap, release: () => release(), started: () => started };
}

describe('query body limit', () => {
  it('a query body over the limit is refused with 413 body_too_large before it is parsed', async () => {
    const a = await serve();
    // Valid JSON, 2 MiB of it: a large body is refused for its size, not for what it holds.
    const big = JSON.stringify({ ...flameRequest, pad: 'x'.repeat(2 * MiB) });
    const res = await postJson(a, FLAME, big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'body_too_large', limit: MiB, actual: big.length });
  });

  it('the legacy render routes have the same limit', async () => {
    const a = await serve();
    const res = await postJson(a, '/pyroscope/render', 'x'.repeat(2 * MiB));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'body_too_large', limit: MiB });
  });

  it('after decompression too: a small gzip body inflating past the limit is 413 decompressed_too_large', async () => {
    const a = await serve();
    const body = gzipSync(JSON.stringify({ ...flameRequest, pad: ' '.repeat(3 * MiB) }));
    expect(body.length).toBeLessThan(MiB);
    const res = await postJson(a, FLAME, body, { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'decompressed_too_large', limit: MiB });
  });

  it('a query under the limit is answered', async () => {
    const a = await serve();
    const res = await postJson(a, FLAME, gzipSync(JSON.stringify(flameRequest)), {
      'content-encoding': 'gzip',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().flamegraph.total).toBe('5');
  });
});

describe('JSON nesting limit on Connect JSON', () => {
  it('400 json_too_deep with limit and actual, checked before parsing', async () => {
    const a = await serve();
    const res = await postJson(a, FLAME, `{"start":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'json_too_deep', limit: 64, actual: 100_001 });
  });
});

describe('query gate and deadline', () => {
  it('past the running and queued caps: 429 too_many_queries with Retry-After; /ready still answers', async () => {
    const block = blockingStore();
    const a = await serve({
      limits: { maxConcurrentQueries: 1, maxConcurrentQueriesPerTenant: 1, maxQueuedQueriesPerTenant: 1 },
      wrap: block.wrap,
    });
    const running = postJson(a, FLAME, JSON.stringify(flameRequest));
    const queued = postJson(a, FLAME, JSON.stringify(flameRequest));
    while (block.started() === 0) await new Promise((r) => setImmediate(r));
    const refused = await postJson(a, FLAME, JSON.stringify(flameRequest));
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error: 'too_many_queries', limit: 1, actual: 2 });
    expect((await a.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    // Another tenant has its own queue.
    const other = postJson(a, FLAME, JSON.stringify(flameRequest), { 'x-scope-orgid': 'other' });
    block.release();
    for (const r of await Promise.all([running, queued, other])) expect(r.statusCode).toBe(200);
  });

  it('a query past its time budget: 504 query_timeout naming the limit', async () => {
    // Every read of the clock moves it 1 s on: the budget of 1.5 s is spent within the query.
    let t = NOW;
    const a = await serve({ limits: { queryTimeoutMs: 1500 }, now: () => (t += 1000) });
    const res = await postJson(
      a,
      '/querier.v1.QuerierService/SelectMergeStacktraces',
      JSON.stringify(flameRequest),
    );
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ error: 'query_timeout', code: 'deadline_exceeded', limit: 1500 });
  });
});
