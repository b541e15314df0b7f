// The write path end to end in-process (app.inject, real DuckDB): every body real peers send, read
// back through the Store (not the query API).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpeedscope, exportTree, exportTrie, getLabel, importFolded } from '@hotpath/core';
import { foldedOf } from '../src/store/conformance.ts';
import { ALL_TIME, NOW_MS, openTestServer, type TestServer } from './support/server.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';

const FIXTURES = new URL('../../core/test/fixtures/', import.meta.url).pathname;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const TEN_YEARS = 10 * 365 * 86_400_000;

/** The total `go tool pprof -top` printed for a fixture ("... of 1500000000ns total"). */
function goTopTotal(file: string): number {
  const m = /of (\d+)(?:ns|B)? total/.exec(readFileSync(`${FIXTURES}${file}`, 'utf8'));
  if (m === null) throw new Error(`no total in ${file}`);
  return Number(m[1]);
}

function multipart(
  boundary: string,
  parts: { name: string; filename?: string; data: Uint8Array | string }[],
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

async function total(
  t: TestServer,
  tenant: string,
  profileTypeId: string,
  matchers = [] as { name: string; op: '='; value: string }[],
) {
  const merged = await t.store.mergeStacks({ tenant, profileTypeId, matchers, ...ALL_TIME });
  return merged.values.reduce((a, b) => a + b, 0);
}

describe('POST /ingest', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await openTestServer({ limits: { rejectOlderThanMs: TEN_YEARS, rejectNewerThanMs: TEN_YEARS } });
  });
  afterAll(() => t.close());

  it('Go CPU pprof (gzip, format=pprof): one series per sample type, totals equal go tool pprof -top', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=go-app{env=prod}&format=pprof&spyName=gospy',
      headers: { 'content-type': 'application/octet-stream' },
      payload: readFileSync(`${FIXTURES}go-cpu.pb.gz`),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    const series = await t.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'go-app' }]],
      ...ALL_TIME,
    });
    expect(series.map((s) => getLabel(s, '__profile_type__')).sort()).toEqual([
      CPU,
      'process_cpu:samples:count:cpu:nanoseconds',
    ]);
    const cpu = series.find((s) => getLabel(s, '__profile_type__') === CPU)!;
    expect(Object.fromEntries(cpu.map((l) => [l.name, l.value]))).toMatchObject({
      __name__: 'process_cpu',
      service_name: 'go-app',
      env: 'prod',
      pyroscope_spy: 'gospy',
      __type__: 'cpu',
      __unit__: 'nanoseconds',
      __period_type__: 'cpu',
      __period_unit__: 'nanoseconds',
    });
    expect(await total(t, 'anonymous', CPU, [{ name: 'service_name', op: '=', value: 'go-app' }])).toBe(
      goTopTotal('go-cpu.top.txt'),
    );
  });

  it('Go heap as multipart (pyroscope-go / @pyroscope/nodejs 0.6.1): file part profile, sample_type_config', async () => {
    const boundary = 'XhotpathBoundary42';
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=go-heap-app&spyName=gospy&from=1764111600&until=1764111610',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: multipart(boundary, [
        { name: 'profile', filename: 'profile.pprof', data: readFileSync(`${FIXTURES}go-heap.pb.gz`) },
        {
          name: 'sample_type_config',
          filename: 'sample_type_config.json',
          data: JSON.stringify({ inuse_space: { units: 'bytes', 'display-name': 'inuse_space_bytes' } }),
        },
        { name: 'ignored_field', data: 'plain form fields are ignored' },
      ]),
    });
    expect(res.statusCode).toBe(200);
    const types = await t.store.profileTypes({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'go-heap-app' }]],
      ...ALL_TIME,
    });
    expect(types).toEqual([
      'memory:alloc_objects:count:space:bytes',
      'memory:alloc_space:bytes:space:bytes',
      'memory:inuse_objects:count:space:bytes',
      'memory:inuse_space:bytes:space:bytes',
    ]);
    expect(
      await total(t, 'anonymous', 'memory:inuse_space:bytes:space:bytes', [
        { name: 'service_name', op: '=', value: 'go-heap-app' },
      ]),
    ).toBe(goTopTotal('go-heap.inuse_space.top.txt'));
  });

  it('multipart with prev_profile is refused (422 unsupported_client)', async () => {
    const boundary = 'b0';
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=old-go',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: multipart(boundary, [
        { name: 'profile', filename: 'profile.pprof', data: pprofOf('a;b 1') },
        { name: 'prev_profile', filename: 'prev_profile.pprof', data: pprofOf('a;b 1') },
      ]),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'unsupported_client' });
  });

  it('raw (not gzip) pprof; from in ms, µs and ns is used when the pprof has no time; /pyroscope/ingest alias', async () => {
    for (const [from, url] of [
      ['1767225000000', '/ingest'],
      ['1767225010000000', '/pyroscope/ingest'],
      ['1767225020000000000', '/ingest'],
      ['1767225030', '/ingest'],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: `${url}?name=timed&format=pprof&from=${from}`,
        payload: pprofOf('main;tick 1'),
      });
      expect(res.statusCode).toBe(200);
    }
    const stats = await t.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'timed' }]],
      startMs: 1767225000000,
      endMs: 1767225030000,
    });
    expect(stats).toHaveLength(1);
    const points = await t.store.timeSeries({
      tenant: 'anonymous',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: 'timed' }],
      startMs: 1767225000000,
      endMs: 1767225030000,
      stepMs: 10_000,
      groupBy: [],
      aggregation: 'sum',
    });
    expect([...points[0]!.timestampsMs]).toEqual([
      1767225000000, 1767225010000, 1767225020000, 1767225030000,
    ]);
  });

  it('promotes string sample labels to series (one series per label set), keeps trace/span ids out', async () => {
    const bytes = pprofOf(
      `main;ride;car 3 {vehicle=car,span_id=abc}
       main;ride;bike 2 {vehicle=bike}
       main;ride;bike 4 {vehicle=bike,trace_id=t1}
       main;idle 1`,
      { timeMs: NOW_MS, scale: 10_000_000, gzip: true },
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=ride-sharing-app{region=eu-north}&format=pprof&spyName=pyspy',
      payload: bytes,
    });
    expect(res.statusCode).toBe(200);
    const sel = (vehicle: string) => [
      { name: 'service_name', op: '=' as const, value: 'ride-sharing-app' },
      { name: 'vehicle', op: '=' as const, value: vehicle },
    ];
    expect(await total(t, 'anonymous', CPU, sel('bike'))).toBe(60_000_000);
    expect(await total(t, 'anonymous', CPU, sel('car'))).toBe(30_000_000);
    expect(await total(t, 'anonymous', CPU, sel(''))).toBe(10_000_000);
    const names = await t.store.labelNames({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'ride-sharing-app' }]],
      ...ALL_TIME,
    });
    expect(names).toContain('vehicle');
    expect(names).toContain('region');
    expect(names).not.toContain('trace_id');
    expect(names).not.toContain('span_id');
  });

  it('spyName=pyspy/rbspy: function names become "<filename> <function>" (pyspy: not for absolute paths)', async () => {
    // pprofOf gives every frame the relative file "<name>.py".
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=old-python&format=pprof&spyName=rbspy',
      payload: pprofOf('main;work 2', { timeMs: NOW_MS }),
    });
    expect(res.statusCode).toBe(200);
    const merged = await t.store.mergeStacks({
      tenant: 'anonymous',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: 'old-python' }],
      ...ALL_TIME,
    });
    expect(await foldedOf(t.store, merged)).toEqual({ 'main.py main;work.py work': 2 });
    const py = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=old-python-2&format=pprof&spyName=pyspy',
      payload: pprofOf('a 1', { timeMs: NOW_MS }),
    });
    expect(py.statusCode).toBe(200);
    const merged2 = await t.store.mergeStacks({
      tenant: 'anonymous',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: 'old-python-2' }],
      ...ALL_TIME,
    });
    expect(await foldedOf(t.store, merged2)).toEqual({ 'a.py a': 1 });
  });

  it('keeps tenants apart (X-Scope-OrgID)', async () => {
    const send = (tenant: string, folded: string) =>
      t.app.inject({
        method: 'POST',
        url: '/ingest?name=shared-name&format=pprof',
        headers: { 'x-scope-orgid': tenant },
        payload: pprofOf(folded, { timeMs: NOW_MS }),
      });
    expect((await send('team-a', 'a;secret 5')).statusCode).toBe(200);
    expect((await send('team-b', 'b;other 7')).statusCode).toBe(200);
    const folded = async (tenant: string) =>
      foldedOf(
        t.store,
        await t.store.mergeStacks({
          tenant,
          profileTypeId: CPU,
          matchers: [{ name: 'service_name', op: '=', value: 'shared-name' }],
          ...ALL_TIME,
        }),
      );
    expect(await folded('team-a')).toEqual({ 'a;secret': 5 });
    expect(await folded('team-b')).toEqual({ 'b;other': 7 });
    expect(await folded('anonymous')).toEqual({});
    const bad = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=x&format=pprof',
      headers: { 'x-scope-orgid': '..' },
      payload: pprofOf('a 1'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'tenant_id_invalid' });
  });

  it('truncates deep stacks at the depth limit and long symbols to their suffix, counting both', async () => {
    const t2 = await openTestServer({ limits: { maxStackDepth: 3, maxSymbolLength: 8 } });
    try {
      const res = await t2.app.inject({
        method: 'POST',
        url: '/ingest?name=deep&format=pprof',
        payload: pprofOf('a;b;c;d;e 2\na;b;c 1\nverylongfunctionname 4', { timeMs: NOW_MS }),
      });
      expect(res.statusCode).toBe(200);
      const merged = await t2.store.mergeStacks({
        tenant: 'anonymous',
        profileTypeId: CPU,
        matchers: [],
        ...ALL_TIME,
      });
      expect(await foldedOf(t2.store, merged)).toEqual({ 'a;b;c': 3, tionname: 4 });
      const metrics = t2.metrics.render();
      expect(metrics).toContain('hotpath_ingest_truncations_total{kind="stack_depth"} 1');
      expect(metrics).toContain('hotpath_ingest_truncations_total{kind="symbol_length"} 1');
    } finally {
      await t2.close();
    }
  });
});

describe('POST /ingest legacy bodies (folded, lines, trie, tree, speedscope)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await openTestServer();
  });
  afterAll(() => t.close());
  const from = String(NOW_MS / 1000);
  const post = (query: string, payload: Buffer | string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/ingest?${query}&from=${from}&until=${from}`, payload, headers });
  const folded = async (service: string, type = CPU) =>
    foldedOf(
      t.store,
      await t.store.mergeStacks({
        tenant: 'anonymous',
        profileTypeId: type,
        matchers: [{ name: 'service_name', op: '=', value: service }],
        ...ALL_TIME,
      }),
    );

  it('folded (the default): no suffix means cpu, values × 1e9/sampleRate (the curl example of the compat spec)', async () => {
    expect((await post('name=curl-test-app', 'foo;bar 100\nfoo;baz 200')).statusCode).toBe(200);
    expect(await folded('curl-test-app')).toEqual({ 'foo;bar': 1_000_000_000, 'foo;baz': 2_000_000_000 });
    expect((await post('name=rate-app.cpu&sampleRate=50', 'a;b 3')).statusCode).toBe(200);
    expect(await folded('rate-app')).toEqual({ 'a;b': 60_000_000 });
  });

  it('the app-name suffix picks the type; a service_name tag wins and the app becomes app_name', async () => {
    expect(
      (await post('name=my.app.alloc_space{service_name=svc,env=dev}&spyName=rbspy', 'main;alloc 4096'))
        .statusCode,
    ).toBe(200);
    expect(await folded('svc', 'memory:alloc_space:bytes::')).toEqual({ 'main;alloc': 4096 });
    const [series] = await t.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'svc' }]],
      ...ALL_TIME,
    });
    expect(getLabel(series!, 'app_name')).toBe('my.app');
    expect(getLabel(series!, 'pyroscope_spy')).toBe('rbspy');
    expect(getLabel(series!, '__name__')).toBe('memory');
  });

  it('lines: identical lines are counted', async () => {
    expect(
      (await post('name=lines-app.wall&format=lines&sampleRate=100', 'a;b\na;b\n\na;c\n')).statusCode,
    ).toBe(200);
    expect(await folded('lines-app', 'wall:wall:nanoseconds:cpu:nanoseconds')).toEqual({
      'a;b': 20_000_000,
      'a;c': 10_000_000,
    });
  });

  it('trie and tree (OG binary), by format= and by Content-Type', async () => {
    const p = importFolded(Buffer.from('x;y 2\nx;z 5')).profiles[0]!;
    expect(
      (await post('name=trie-app&format=trie&sampleRate=0', Buffer.from(exportTrie(p)))).statusCode,
    ).toBe(200);
    expect(await folded('trie-app', 'process_cpu:samples:count::')).toEqual({ 'x;y': 2, 'x;z': 5 });
    const tree = Buffer.from(exportTree(p));
    expect(
      (await post('name=tree-app&sampleRate=0', tree, { 'content-type': 'binary/octet-stream+tree' }))
        .statusCode,
    ).toBe(200);
    expect(await folded('tree-app', 'process_cpu:samples:count::')).toEqual({ 'x;y': 2, 'x;z': 5 });
  });

  it('speedscope JSON keeps its own unit', async () => {
    const p = importFolded(Buffer.from('s;t 7')).profiles[0]!;
    const res = await post('name=ss-app&format=speedscope', exportSpeedscope(p), {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(200);
    const types = await t.store.profileTypes({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'ss-app' }]],
      ...ALL_TIME,
    });
    expect(types).toHaveLength(1);
    const values = Object.values(await folded('ss-app', types[0]!));
    expect(values.length).toBe(1);
    expect(values[0]! > 0).toBe(true);
  });

  it('gzip folded bodies are detected by their magic bytes', async () => {
    expect((await post('name=gz-app', gzipSync('g;h 1'))).statusCode).toBe(200);
    expect(await folded('gz-app')).toEqual({ 'g;h': 10_000_000 });
  });
});

describe('POST /push.v1.PusherService/Push', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await openTestServer();
  });
  afterAll(() => t.close());

  it('binary proto with Content-Encoding gzip, as pyroscope-io ≥ 1.0 sends it', async () => {
    const body = pushRequest([
      {
        labels: {
          __name__: 'process_cpu',
          service_name: 'py-app',
          'otel.scope.name': 'pyroscope',
          __delta__: 'false',
        },
        profiles: [
          pprofOf('main;work 7\nmain;idle 3 {thread_name=MainThread}', { timeMs: NOW_MS, scale: 10_000_000 }),
        ],
      },
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/push.v1.PusherService/Push',
      headers: {
        'content-type': 'application/proto',
        'content-encoding': 'gzip',
        'user-agent': 'pyroscope-rs/pyspy/1.0 reqwest',
      },
      payload: gzipSync(body),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/proto/);
    expect(await total(t, 'anonymous', CPU, [{ name: 'service_name', op: '=', value: 'py-app' }])).toBe(
      100_000_000,
    );
    const series = await t.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'py-app' }]],
      ...ALL_TIME,
    });
    expect(series).toHaveLength(2);
    for (const s of series) {
      expect(getLabel(s, '__delta__')).toBeUndefined();
      expect(getLabel(s, 'otel.scope.name')).toBe('pyroscope');
      expect(getLabel(s, '__profile_type__')).toBe(CPU);
    }
  });

  it('JSON (protojson, base64 rawProfile); missing service_name → unknown_service; godeltaprof_ relabel', async () => {
    const raw = Buffer.from(pprofOf('x;y 5', { timeMs: NOW_MS, gzip: true })).toString('base64');
    const res = await t.app.inject({
      method: 'POST',
      url: '/push.v1.PusherService/Push',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        series: [
          {
            labels: [{ name: '__name__', value: 'godeltaprof_process_cpu' }],
            samples: [{ rawProfile: raw, ID: 'x' }],
          },
        ],
      }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const series = await t.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'unknown_service' }]],
      ...ALL_TIME,
    });
    expect(series.map((s) => getLabel(s, '__profile_type__'))).toEqual([CPU]);
    expect(getLabel(series[0]!, '__name__')).toBe('process_cpu');
  });

  it('answers non-POST with 405 and unknown content types with 415', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/push.v1.PusherService/Push' })).statusCode).toBe(405);
    const res = await t.app.inject({
      method: 'POST',
      url: '/push.v1.PusherService/Push',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
  });
});

describe('operations', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await openTestServer();
  });
  afterAll(() => t.close());

  it('GET /ready is 200 and GET /metrics renders the registry with ingest counters', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    await t.app.inject({
      method: 'POST',
      url: '/ingest?name=m&format=pprof',
      payload: pprofOf('a 1', { timeMs: NOW_MS }),
    });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toContain('hotpath_ingested_profiles_total{tenant="anonymous"} 1');
    expect(res.body).toContain('hotpath_store_commit_duration_seconds_count{store="duckdb"}');
  });

  it('answers / with a "UI not built" page when there is no UI build', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('not built');
  });
});
