// Bounded work per write request: one decompression budget for every gzip layer of a request, and
// the JSON nesting limit on every JSON body of the write path (speedscope, sample_type_config, Push).
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemoryStore } from '../src/store/memory.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';

const MiB = 1024 * 1024;
const LIMITS = { maxDecompressedBodyBytes: MiB, maxProfileBytes: 4 * MiB, maxJsonDepth: 8 };

/** `[[[...1...]]]`, `depth` brackets deep. */
const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

let s: TestServer;
beforeAll(async () => {
  s = await openTestServer({ limits: LIMITS, store: await openMemoryStore() });
});
afterAll(async () => s.close());

const post = (url: string, payload: Buffer | string, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, payload, headers });

describe('one decompression budget per request', () => {
  it('gzip inside gzip stops at the documented limit, not at the inner layer own cap', async () => {
    // 1.8 KB on the wire, 3 MiB after two layers: under the profile cap, over the request's budget.
    const bomb = gzipSync(gzipSync(Buffer.alloc(3 * MiB)));
    const res = await post('/ingest?name=app.cpu&format=pprof', bomb);
    expect(res.statusCode).toBe(413);
    const body = res.json();
    expect(body.error).toBe('decompressed_too_large');
    expect(body.limit).toBe(MiB);
    expect(body.actual).toBeGreaterThan(MiB);
  });

  it('Push: Content-Encoding gzip and the gzipped profiles inside it share the budget', async () => {
    // The body inflates to 0.9 MiB (a long label value), the gzipped profile in it to 0.2 MiB: each
    // fits alone, together they pass 1 MiB before the profile is decoded.
    const part = gzipSync(Buffer.alloc(0.2 * MiB));
    const labels = { __name__: 'process_cpu', pad: 'x'.repeat(0.9 * MiB) };
    const body = gzipSync(pushRequest([{ labels, profiles: [part] }]));
    const res = await post('/push.v1.PusherService/Push', body, {
      'content-type': 'application/proto',
      'content-encoding': 'gzip',
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'decompressed_too_large', limit: MiB });
  });

  it('a gzipped legacy body inside gzip is unwrapped and accepted within the budget', async () => {
    const res = await post('/ingest?name=nested.cpu&from=' + NOW_MS / 1000, gzipSync(gzipSync('a;b 3')));
    expect(res.statusCode).toBe(200);
  });

  it('a gzip pprof inside gzip is accepted within the budget', async () => {
    const pprof = pprofOf('main;work 5', { timeMs: NOW_MS, gzip: true });
    const res = await post('/ingest?name=nested2&format=pprof', gzipSync(Buffer.from(pprof)));
    expect(res.statusCode).toBe(200);
  });
});

describe('JSON nesting limit', () => {
  it('speedscope bodies nested past the limit: json_too_deep with limit and actual', async () => {
    const doc = `{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[{"type":"sampled","startValue":0,"endValue":${nested(100_000)}}]}`;
    const res = await post('/ingest?name=deep.cpu&format=speedscope', doc);
    // /ingest answers body validation failures with 422 (compat spec §1.8), like malformed_body.
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'json_too_deep', limit: 8, actual: 100_003 });
  });

  it('brackets inside strings do not count', async () => {
    const doc = JSON.stringify({
      $schema: 'https://www.speedscope.app/file-format-schema.json',
      shared: { frames: [{ name: '[[[[[[[[[[[[[[[[[[[["\\' }] },
      profiles: [
        {
          type: 'sampled',
          name: 'p',
          unit: 'none',
          startValue: 0,
          endValue: 1,
          samples: [[0]],
          weights: [1],
        },
      ],
    });
    const res = await post('/ingest?name=strings.cpu&format=speedscope', doc);
    expect(res.body).not.toContain('json_too_deep');
  });

  it('multipart sample_type_config', async () => {
    const boundary = 'XyZ';
    const part = (name: string, data: Buffer | string) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n\r\n`,
        ),
        Buffer.from(data),
        Buffer.from('\r\n'),
      ]);
    const body = Buffer.concat([
      part('profile', Buffer.from(pprofOf('a;b 1', { timeMs: NOW_MS }))),
      part('sample_type_config', `{"cpu":${nested(50)}}`),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res = await post('/ingest?name=mp', body, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'json_too_deep', limit: 8, actual: 51 });
  });

  it('Push JSON bodies: 400 json_too_deep', async () => {
    const res = await post('/push.v1.PusherService/Push', `{"series":${nested(1000)}}`, {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'json_too_deep', limit: 8, actual: 1001 });
  });
});
