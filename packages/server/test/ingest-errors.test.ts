// Every code of the ingest error catalogue (src/ingest/errors.ts, docs/errors.md): its HTTP status
// on /ingest and on Push, the code, a message naming the limit and the actual value, the rejection
// counted in /metrics, and the data written before it left intact.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtoWriter } from '../src/connect/wire.ts';
import { foldedOf } from '../src/store/conformance.ts';
import type { Store, WriteBatch } from '../src/store/types.ts';
import { openDuckDBStore } from '../src/store/duckdb.ts';
import { ALL_TIME, NOW_MS, openTestServer, type TestServer } from './support/server.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const LIMITS = {
  maxBodyBytes: 64 * 1024,
  maxDecompressedBodyBytes: 32 * 1024,
  maxProfileBytes: 16 * 1024,
  maxSamplesPerProfile: 5,
  maxLabelNamesPerSeries: 6,
  maxLabelNameLength: 20,
  maxLabelValueLength: 30,
  maxSeriesPerTenant: 4,
};

/** A pprof whose function name is not valid UTF-8 (bytes ff fe). */
function invalidUtf8Pprof(): Buffer {
  const w = new ProtoWriter();
  w.message(1, (v) => v.int64(1, 1).int64(2, 2));
  w.message(2, (s) => s.packedInt64(1, [1]).packedInt64(2, [5]));
  w.message(4, (l) => l.int64(1, 1).message(4, (line) => line.int64(1, 1)));
  w.message(5, (f) => f.int64(1, 1).int64(2, 3));
  for (const s of ['', 'cpu', 'nanoseconds']) w.string(6, s, true);
  w.bytes(6, Uint8Array.from([0xff, 0xfe]), true);
  w.int64(9, NOW_MS * 1e6);
  return Buffer.from(w.finish());
}

interface Case {
  readonly name: string;
  readonly request: () => {
    url: string;
    headers?: Record<string, string>;
    payload?: Buffer | string;
    method?: 'POST' | 'GET';
  };
  readonly status: number;
  readonly code: string;
  /** Facts the message must state (limit and actual value where there is one). */
  readonly message?: RegExp;
  readonly limit?: number;
  readonly actual?: number;
}

const ingest =
  (query: string, payload: Buffer | string, headers: Record<string, string> = {}) =>
  () => ({ url: `/ingest?${query}`, payload, headers });
const push =
  (body: Uint8Array | Buffer, headers: Record<string, string> = {}) =>
  () => ({
    url: '/push.v1.PusherService/Push',
    payload: Buffer.from(body),
    headers: { 'content-type': 'application/proto', ...headers },
  });
const cpuSeries = (labels: Record<string, string>, profile: Buffer) =>
  pushRequest([{ labels: { __name__: 'process_cpu', ...labels }, profiles: [profile] }]);
const fresh = (folded = 'main;fresh 1', timeMs = NOW_MS) => pprofOf(folded, { timeMs });
const big = Buffer.alloc(100 * 1024, 7);

const CASES: Case[] = [
  {
    name: 'body over the body limit',
    request: ingest('name=a&format=pprof', big),
    status: 413,
    code: 'body_too_large',
    limit: 65536,
    actual: 102400,
  },
  {
    name: 'gzip bomb on /ingest',
    request: ingest('name=a&format=pprof', gzipSync(Buffer.alloc(1024 * 1024))),
    status: 413,
    code: 'decompressed_too_large',
    limit: 32768,
  },
  {
    name: 'gzip bomb in Push Content-Encoding',
    request: push(gzipSync(Buffer.alloc(1024 * 1024)), { 'content-encoding': 'gzip' }),
    status: 413,
    code: 'decompressed_too_large',
    limit: 32768,
  },
  {
    name: 'profile over the profile size limit',
    request: ingest(
      'name=a&format=pprof',
      pprofOf(Array.from({ length: 5 }, (_, i) => `${'f'.repeat(4000)}${i} 1`).join('\n'), {
        timeMs: NOW_MS,
      }),
    ),
    status: 413,
    code: 'profile_too_large',
    limit: 16384,
  },
  {
    name: 'too many samples (/ingest)',
    request: ingest('name=a&format=pprof', fresh('a 1\nb 1\nc 1\nd 1\ne 1\nf 1')),
    status: 422,
    code: 'too_many_samples',
    limit: 5,
    actual: 6,
  },
  {
    name: 'too many samples (Push)',
    request: push(cpuSeries({ service_name: 'a' }, fresh('a 1\nb 1\nc 1\nd 1\ne 1\nf 1'))),
    status: 400,
    code: 'too_many_samples',
    limit: 5,
    actual: 6,
  },
  {
    name: 'too many labels',
    request: ingest('name=a{l1=1,l2=2,l3=3,l4=4}&format=pprof', fresh()),
    status: 422,
    code: 'too_many_labels',
    limit: 6,
    actual: 7,
  },
  {
    name: 'label name too long',
    request: ingest('name=a{abcdefghijklmnopqrstuvwxyz=1}&format=pprof', fresh()),
    status: 422,
    code: 'label_name_too_long',
    limit: 20,
    actual: 26,
  },
  {
    name: 'label value too long',
    request: ingest(`name=a{k=${'v'.repeat(31)}}&format=pprof`, fresh()),
    status: 422,
    code: 'label_value_too_long',
    limit: 30,
    actual: 31,
  },
  {
    name: 'empty label name (Push)',
    request: push(cpuSeries({ '': 'x', service_name: 'a' }, fresh())),
    status: 400,
    code: 'invalid_label_name',
  },
  {
    name: 'duplicate label name (Push)',
    request: push(dupLabels()),
    status: 400,
    code: 'duplicate_label_name',
  },
  {
    name: 'invalid UTF-8 in the pprof (/ingest)',
    request: ingest('name=a&format=pprof', invalidUtf8Pprof()),
    status: 422,
    code: 'invalid_utf8',
  },
  {
    name: 'invalid UTF-8 in the pprof (Push)',
    request: push(cpuSeries({ service_name: 'a' }, invalidUtf8Pprof())),
    status: 400,
    code: 'invalid_utf8',
  },
  { name: 'missing name', request: ingest('format=pprof', fresh()), status: 400, code: 'missing_name' },
  {
    name: 'invalid name',
    request: ingest('name=bad%20app!&format=pprof', fresh()),
    status: 400,
    code: 'invalid_name',
  },
  {
    name: 'reserved __name__ in name',
    request: ingest('name=a{__name__=x}&format=pprof', fresh()),
    status: 400,
    code: 'invalid_name',
  },
  {
    name: 'invalid from',
    request: ingest('name=a&format=pprof&from=yesterday', fresh()),
    status: 400,
    code: 'invalid_parameter',
  },
  {
    name: 'unknown profile type (folded)',
    request: ingest('name=my.python.app', 'a;b 1'),
    status: 400,
    code: 'unknown_profile_type',
  },
  {
    name: 'malformed pprof (/ingest)',
    request: ingest('name=a&format=pprof', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1])),
    status: 422,
    code: 'malformed_profile',
  },
  {
    name: 'malformed pprof (Push)',
    request: push(cpuSeries({ service_name: 'a' }, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]))),
    status: 400,
    code: 'malformed_profile',
  },
  {
    name: 'corrupt gzip',
    request: ingest('name=a&format=pprof', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])),
    status: 422,
    code: 'malformed_gzip',
  },
  {
    name: 'malformed Push protobuf',
    request: push(Buffer.from([0x0a, 0x7f, 1])),
    status: 400,
    code: 'malformed_protobuf',
  },
  {
    name: 'profile too old',
    request: ingest('name=a&format=pprof', fresh('a 1', NOW_MS - 2 * 3_600_000)),
    status: 422,
    code: 'profile_too_old',
    limit: 3_600_000,
    actual: 7_200_000,
  },
  {
    name: 'profile too new',
    request: ingest('name=a&format=pprof', fresh('a 1', NOW_MS + 3_600_000)),
    status: 422,
    code: 'profile_too_new',
    limit: 600_000,
    actual: 3_600_000,
  },
  {
    name: 'multipart without a profile part',
    request: ingest(
      'name=a',
      '--b\r\nContent-Disposition: form-data; name="other"; filename="x"\r\n\r\nxx\r\n--b--\r\n',
      {
        'content-type': 'multipart/form-data; boundary=b',
      },
    ),
    status: 422,
    code: 'missing_profile_part',
  },
  {
    name: 'multipart without its boundary',
    request: ingest('name=a', 'no parts here', { 'content-type': 'multipart/form-data; boundary=zz' }),
    status: 422,
    code: 'malformed_multipart',
  },
  {
    name: 'Push series without __name__',
    request: push(pushRequest([{ labels: { service_name: 'a' }, profiles: [fresh()] }])),
    status: 400,
    code: 'missing_metric_name',
  },
  { name: 'Push without profiles', request: push(new Uint8Array(0)), status: 400, code: 'no_profiles' },
  {
    name: 'Push with an empty service_name',
    request: push(cpuSeries({ service_name: '' }, fresh())),
    status: 400,
    code: 'empty_service_name',
  },
  {
    name: 'unparsable folded text',
    request: ingest('name=app.cpu', 'a;b notanumber\n'),
    status: 422,
    code: 'malformed_body',
  },
  {
    name: 'JFR is not supported',
    request: ingest('name=a&format=jfr', 'x'),
    status: 415,
    code: 'unsupported_format',
  },
  {
    name: 'invalid tenant id',
    request: ingest('name=a&format=pprof', fresh(), { 'x-scope-orgid': 'a b' }),
    status: 400,
    code: 'tenant_id_invalid',
  },
];

function dupLabels(): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (sw) => {
    for (const [n, v] of [
      ['__name__', 'process_cpu'],
      ['service_name', 'a'],
      ['service_name', 'b'],
    ])
      sw.message(1, (lw) => lw.string(1, n!).string(2, v!));
    sw.message(2, (rw) => rw.bytes(1, fresh()));
  });
  return w.finish();
}

describe('ingest error catalogue', () => {
  let t: TestServer;
  let seriesBefore: number;

  async function seeded(): Promise<Record<string, number>> {
    const merged = await t.store.mergeStacks({
      tenant: 'anonymous',
      profileTypeId: CPU,
      matchers: [],
      ...ALL_TIME,
    });
    return foldedOf(t.store, merged);
  }

  beforeAll(async () => {
    t = await openTestServer({ limits: LIMITS });
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=seed{env=prod}&format=pprof',
      payload: pprofOf('seed;stack 5', { timeMs: NOW_MS }),
    });
    expect(res.body).toBe('');
    seriesBefore = (await t.store.series({ tenant: 'anonymous', selectors: [], ...ALL_TIME })).length;
  });
  afterAll(() => t.close());

  for (const c of CASES) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const r = c.request();
      const res = await t.app.inject({
        method: r.method ?? 'POST',
        url: r.url,
        headers: r.headers ?? {},
        payload: r.payload ?? '',
      });
      expect(res.statusCode).toBe(c.status);
      const body = res.json();
      expect(body.error).toBe(c.code);
      expect(typeof body.code).toBe('string');
      if (c.limit !== undefined) {
        expect(body.limit).toBe(c.limit);
        expect(body.message).toContain(
          String(c.limit === 3_600_000 || c.limit === 600_000 ? c.limit / 1000 : c.limit),
        );
      }
      if (c.actual !== undefined) {
        expect(body.actual).toBe(c.actual);
        expect(body.message).toContain(String(c.actual >= 600_000 ? c.actual / 1000 : c.actual));
      }
      expect(
        t.metrics.rejections.get({ code: c.code, api: r.url.startsWith('/push') ? 'push' : 'ingest' }),
      ).toBeGreaterThan(0);
      // Nothing of the rejected request was written; what was there before is intact.
      expect(await seeded()).toEqual({ 'seed;stack': 5 });
      expect((await t.store.series({ tenant: 'anonymous', selectors: [], ...ALL_TIME })).length).toBe(
        seriesBefore,
      );
    });
  }

  it('series limit per tenant → 429 series_limit; existing series still accept data', async () => {
    // The seed has 1 series; limit 4.
    for (const app of ['s1', 's2', 's3']) {
      const ok = await t.app.inject({
        method: 'POST',
        url: `/ingest?name=${app}&format=pprof`,
        payload: fresh(),
      });
      expect(ok.statusCode).toBe(200);
    }
    const res = await t.app.inject({ method: 'POST', url: '/ingest?name=s4&format=pprof', payload: fresh() });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({
      error: 'series_limit',
      limit: 4,
      actual: 5,
      code: 'resource_exhausted',
    });
    expect(res.json().message).toMatch(/5 active series, the limit is 4/);
    const again = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=s1&format=pprof',
      payload: fresh('main;again 2'),
    });
    expect(again.statusCode).toBe(200);
    const other = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=s4&format=pprof',
      headers: { 'x-scope-orgid': 'other' },
      payload: fresh(),
    });
    expect(other.statusCode).toBe(200);
  });
});

describe('a failed commit', () => {
  it('fails every request of its group with 503 commit_failed and writes none of them', async () => {
    const dir = (await import('node:fs')).mkdtempSync(
      `${(await import('node:os')).tmpdir()}/hotpath-failing-`,
    );
    const real = await openDuckDBStore({ dataDir: dir });
    let fail = false;
    const failing: Store = Object.assign(Object.create(real) as Store, {
      append: (b: WriteBatch) => (fail ? Promise.reject(new Error('disk full')) : real.append(b)),
    });
    const t = await openTestServer({ store: failing });
    try {
      expect(
        (await t.app.inject({ method: 'POST', url: '/ingest?name=ok&format=pprof', payload: fresh('a;b 3') }))
          .statusCode,
      ).toBe(200);
      fail = true;
      const results = await Promise.all(
        [1, 2, 3].map((i) =>
          t.app.inject({
            method: 'POST',
            url: `/ingest?name=app${i}&format=pprof`,
            payload: fresh(`x;y ${i}`),
          }),
        ),
      );
      for (const r of results) {
        expect(r.statusCode).toBe(503);
        expect(r.json()).toMatchObject({ error: 'commit_failed', code: 'unavailable' });
        expect(r.json().message).toContain('disk full');
        expect(r.headers['retry-after']).toBe('5');
      }
      fail = false;
      const merged = await real.mergeStacks({
        tenant: 'anonymous',
        profileTypeId: CPU,
        matchers: [],
        ...ALL_TIME,
      });
      expect(await foldedOf(real, merged)).toEqual({ 'a;b': 3 });
    } finally {
      await t.close();
      (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
    }
  });
});
