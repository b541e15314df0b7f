// Span profiles end to end: pprof sample labels span_id / profile_id, span_name and trace_id go in
// through /ingest and Push, stay per sample (never series labels), and come back out through
// SelectMergeSpanProfile (JSON and binary, flame graph and tree), the span and trace id selectors of
// SelectMergeStacktraces, SelectSeries exemplars and GET /api/spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtoReader } from '../src/connect/wire.ts';
import { decodeFlameGraphResponse, encodeSelectRequest, ProfileFormat } from '../src/query/messages.ts';
import { OTLP_HTTP_PATH } from '../src/ingest/otlp.ts';
import { eBpfPythonRequest, otlpBinary } from './support/otlp.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';
import { connectJson } from './query-helpers.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const CAR = '5bde01274734d594';
const BIKE = '00000000000000b2';
const RENAMED = 'c0ffee00c0ffee00'; // sent as profile_id, stored as a span id
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const T = NOW_MS - 60_000;
const range = { start: T - 1000, end: T + 10_000 };
const eu = { profileTypeID: CPU, labelSelector: '{service_name="ride-sharing-app"}', ...range };
/** The same selection for the binary encoder (SelectRequest field names). */
const euBinary = { profileTypeId: CPU, labelSelector: eu.labelSelector, ...range };

/** A pprof as pyroscope-go's otel integration and the Hotpath SDK write it: span labels per sample. */
const RIDES = pprofOf(
  `main;handle;car 30 {span_id=${CAR},span_name=GET /car,trace_id=${TRACE}}
   main;handle;bike 5 {span_id=${BIKE},span_name=GET /bike}
   main;handle;car 2 {profile_id=${RENAMED}}
   main;idle 10`,
  { timeMs: T, gzip: true },
);

/** PROFILE_FORMAT_TREE bytes (tree-bytes.ts) back into folded lines with their self values. */
function foldedOfTree(bytes: Uint8Array): Record<string, number> {
  const r = new ProtoReader(bytes);
  const out: Record<string, number> = {};
  const walk = (path: string[]): void => {
    const name = r.string();
    const self = r.varint();
    const children = r.varint();
    const here = name === '' ? path : [...path, name];
    if (self > 0) out[here.join(';')] = self;
    for (let i = 0; i < children; i++) walk(here);
  };
  if (bytes.length > 0) walk([]);
  return out;
}

describe('span profiles', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await openTestServer();
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=ride-sharing-app{region=eu-north}&format=pprof&spyName=gospy',
      payload: RIDES,
    });
    expect(res.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('span labels stay per sample: one series, no span label names', async () => {
    const series = await connectJson(t.app, 'Series', { matchers: ['{}'], ...range });
    expect(series.body.labelsSet).toHaveLength(1);
    const names = await connectJson(t.app, 'LabelNames', { matchers: ['{}'], ...range });
    expect(names.body.names).toEqual(expect.arrayContaining(['service_name', 'region']));
    for (const n of ['span_id', 'span_name', 'trace_id', 'profile_id'])
      expect(names.body.names).not.toContain(n);
    // The whole service's profile still holds every sample.
    const all = await connectJson(t.app, 'SelectMergeStacktraces', eu);
    expect(all.body.flamegraph.total).toBe('47');
  });

  it('SelectMergeSpanProfile (JSON) is the profile of exactly the selected spans', async () => {
    const car = await connectJson(t.app, 'SelectMergeSpanProfile', { ...eu, spanSelector: [CAR] });
    expect(car.status).toBe(200);
    expect(car.body.flamegraph.names).toEqual(['total', 'main', 'handle', 'car']);
    expect(car.body.flamegraph.total).toBe('30');
    const two = await connectJson(t.app, 'SelectMergeSpanProfile', { ...eu, spanSelector: [BIKE, RENAMED] });
    expect(two.body.flamegraph.total).toBe('7');
    const upper = await connectJson(t.app, 'SelectMergeSpanProfile', {
      ...eu,
      spanSelector: [CAR.toUpperCase()],
    });
    expect(upper.body.flamegraph.total).toBe('30');
  });

  it('SelectMergeSpanProfile (binary, as Grafana sends it) in flame graph and tree formats', async () => {
    const ask = (format: ProfileFormat) =>
      t.app.inject({
        method: 'POST',
        url: '/querier.v1.QuerierService/SelectMergeSpanProfile',
        headers: { 'content-type': 'application/proto' },
        payload: Buffer.from(encodeSelectRequest({ ...euBinary, spanSelector: [CAR, BIKE], format }, 'span')),
      });
    const fg = await ask(ProfileFormat.Flamegraph);
    expect(fg.statusCode).toBe(200);
    expect(fg.headers['content-type']).toBe('application/proto');
    expect(decodeFlameGraphResponse(fg.rawPayload)!.total).toBe(35);
    const tree = await ask(ProfileFormat.Tree);
    expect(tree.statusCode).toBe(200);
    let treeBytes: Uint8Array = new Uint8Array(0);
    const r = new ProtoReader(tree.rawPayload);
    while (!r.done) {
      const [field, wire] = r.key();
      if (field === 2) treeBytes = r.bytes();
      else r.skip(wire);
    }
    expect(foldedOfTree(treeBytes)).toEqual({ 'main;handle;car': 30, 'main;handle;bike': 5 });
  });

  it('SelectMergeStacktraces honours span_selector and trace_id_selector', async () => {
    const bySpan = await connectJson(t.app, 'SelectMergeStacktraces', { ...eu, spanSelector: [RENAMED] });
    expect(bySpan.body.flamegraph.total).toBe('2');
    const byTrace = await connectJson(t.app, 'SelectMergeStacktraces', { ...eu, traceIdSelector: [TRACE] });
    expect(byTrace.body.flamegraph.total).toBe('30');
    const binary = await t.app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(encodeSelectRequest({ ...euBinary, traceIdSelector: [TRACE] })),
    });
    expect(decodeFlameGraphResponse(binary.rawPayload)!.total).toBe(30);
    const bad = await connectJson(t.app, 'SelectMergeStacktraces', { ...eu, traceIdSelector: ['xyz'] });
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_trace_id']);
  });

  it('GET /api/spans lists the slowest spans of the selection', async () => {
    const q = encodeURIComponent('{service_name="ride-sharing-app"}');
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/spans?query=${q}&profileType=${CPU}&from=${range.start}&until=${range.end}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      unit: 'nanoseconds',
      spans: [
        { spanId: CAR, spanName: 'GET /car', traceId: TRACE, value: 30, samples: 1, firstMs: T, lastMs: T },
        { spanId: BIKE, spanName: 'GET /bike', traceId: '', value: 5, samples: 1, firstMs: T, lastMs: T },
        { spanId: RENAMED, spanName: '', traceId: '', value: 2, samples: 1, firstMs: T, lastMs: T },
      ],
    });
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/spans?query=${CPU}${q}&from=${range.start}&until=${range.end}&limit=1`,
    });
    expect(one.json().spans.map((s: { spanId: string }) => s.spanId)).toEqual([CAR]);
  });

  it('GET /api/spans rejects bad input with coded errors', async () => {
    const q = encodeURIComponent('{service_name="ride-sharing-app"}');
    const cases: [string, number, string][] = [
      [`/api/spans?profileType=${CPU}`, 400, 'missing_parameter'],
      [`/api/spans?query=${q}`, 400, 'missing_parameter'],
      [`/api/spans?query=${q}&profileType=cpu`, 400, 'invalid_profile_type'],
      [`/api/spans?query=${q}&profileType=${CPU}&limit=1001`, 400, 'too_many_spans'],
      [`/api/spans?query=${q}&profileType=${CPU}&limit=0`, 400, 'invalid_limit'],
      [`/api/spans?query=${q}&profileType=${CPU}&limit=ten`, 400, 'invalid_limit'],
      [`/api/spans?query=${q}&profileType=${CPU}&from=yesterday`, 400, 'invalid_time'],
    ];
    for (const [url, status, code] of cases) {
      const res = await t.app.inject({ method: 'GET', url });
      expect([url, res.statusCode, res.json().error]).toEqual([url, status, code]);
    }
    const post = await t.app.inject({ method: 'POST', url: `/api/spans?query=${q}&profileType=${CPU}` });
    expect(post.statusCode).toBe(405);
  });

  it('SelectSeries with exemplarType returns the largest span of each point', async () => {
    const req = { ...eu, step: 60, groupBy: ['region'] };
    const none = await connectJson(t.app, 'SelectSeries', req);
    expect(none.body.series[0].points[0].exemplars).toBeUndefined();
    const res = await connectJson(t.app, 'SelectSeries', { ...req, exemplarType: 'EXEMPLAR_TYPE_SPAN' });
    expect(res.status).toBe(200);
    expect(res.body.series[0].points[0].exemplars).toEqual([
      {
        timestamp: String(T),
        spanId: CAR,
        value: '30',
        labels: [{ name: 'span_name', value: 'GET /car' }],
        traceId: TRACE,
      },
    ]);
    const bad = await connectJson(t.app, 'SelectSeries', { ...req, exemplarType: 'EXEMPLAR_TYPE_NOPE' });
    expect(bad.status).toBe(400);
  });

  it('multipart /ingest (pyroscope-io and the Go client) keeps the span labels too', async () => {
    const boundary = 'span-boundary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\n\r\n`,
      ),
      pprofOf(`main;checkout 9 {span_id=${'d'.repeat(16)},span_name=POST /pay}\nmain;idle 1`, { timeMs: T }),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/ingest?name=payments&spyName=gospy',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const pay = await connectJson(t.app, 'SelectMergeSpanProfile', {
      ...eu,
      labelSelector: '{service_name="payments"}',
      spanSelector: ['d'.repeat(16)],
    });
    expect(pay.body.flamegraph.names).toEqual(['total', 'main', 'checkout']);
    expect(pay.body.flamegraph.total).toBe('9');
  });

  it('OTLP: a sample link becomes the span (and trace) of its samples', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: OTLP_HTTP_PATH,
      headers: { 'content-type': 'application/x-protobuf', 'x-scope-orgid': 'otlp' },
      payload: otlpBinary(eBpfPythonRequest(BigInt(T) * 1_000_000n)),
    });
    expect(res.statusCode).toBe(200);
    const linked = { ...eu, profileTypeID: CPU };
    const ask = (body: object) =>
      connectJson(t.app, 'SelectMergeSpanProfile', body, { 'x-scope-orgid': 'otlp' });
    const bySpan = await ask({ ...linked, spanSelector: ['a1a2a3a4a5a6a7a8'] });
    expect(bySpan.status).toBe(200);
    expect(bySpan.body.flamegraph.names).toContain('order_car');
    expect(bySpan.body.flamegraph.names).not.toContain('order_bike');
    const byTrace = await connectJson(
      t.app,
      'SelectMergeStacktraces',
      { ...linked, traceIdSelector: ['0102030405060708090a0b0c0d0e0f10'] },
      { 'x-scope-orgid': 'otlp' },
    );
    expect(byTrace.body.flamegraph).toEqual(bySpan.body.flamegraph);
  });

  it('Push carries span labels too, and 1,000 spans add no series', async () => {
    const lines = Array.from(
      { length: 1000 },
      (_, i) =>
        `main;order;step${i % 7} ${i + 1} {span_id=${(i + 1).toString(16).padStart(16, '0')},span_name=POST /order}`,
    ).join('\n');
    const res = await t.app.inject({
      method: 'POST',
      url: '/push.v1.PusherService/Push',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        pushRequest([
          {
            labels: { __name__: 'process_cpu', service_name: 'orders' },
            profiles: [pprofOf(lines, { timeMs: T })],
          },
        ]),
      ),
    });
    expect(res.statusCode).toBe(200);
    const series = await connectJson(t.app, 'Series', { matchers: ['{service_name="orders"}'], ...range });
    expect(series.body.labelsSet).toHaveLength(1);
    const q = encodeURIComponent('{service_name="orders"}');
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/spans?query=${q}&profileType=${CPU}&from=${range.start}&until=${range.end}&limit=1000`,
    });
    const spans = listed.json().spans as { spanId: string; value: number }[];
    expect(spans).toHaveLength(1000);
    expect(spans[0]).toMatchObject({ spanId: '00000000000003e8', value: 1000 });
    const one = await connectJson(t.app, 'SelectMergeSpanProfile', {
      ...eu,
      labelSelector: '{service_name="orders"}',
      spanSelector: ['000000000000002a'],
    });
    expect(one.body.flamegraph.names).toEqual(['total', 'main', 'order', 'step6']);
    expect(one.body.flamegraph.total).toBe('42');
  });
});
