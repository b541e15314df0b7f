// OpenTelemetry profiles ingest end to end: OTLP/HTTP (protobuf, JSON, gzip) in-process and gRPC
// over a real HTTP/2 connection on 127.0.0.1, each request built from the project's generated
// schemas and read back as flame graphs through the Connect query API. Partial success, refusals
// (malformed, oversized, 1.8 layout), 1.9 senders and that a refusal loses nothing else.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { decodeFlamebearer } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printFolded } from '../../core/src/testing/pictures.ts';
import { buildServer } from '../src/app.ts';
import { ExportProfilesServiceResponseSchema } from '../src/gen/opentelemetry/proto/collector/profiles/v1development/profiles_service_pb.ts';
import {
  OTLP_GRPC_PATH,
  OTLP_HTTP_PATH,
  renumberSampleFields,
  sniffLegacyLayout,
} from '../src/ingest/otlp.ts';
import { resolveLimits } from '../src/limits.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import { connectJson, HOUR, NOW } from './query-helpers.ts';
import { DictionaryBuilder, eBpfPythonRequest, otlpBinary, otlpJson, otlpRequest } from './support/otlp.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const OFF_CPU = 'off_cpu:off_cpu:nanoseconds::';
const ALLOC = 'memory:alloc_space:bytes:space:bytes';
const TIME_NS = BigInt(NOW - 30_000) * 1_000_000n;

const CAR_STACK =
  'main;handle_request;order_car;_PyEval_EvalFrameDefault [native];libssl.so.3+0x1a2b [native];do_syscall_64 [kernel]';
const EXPECTED: Record<string, string> = {
  [CPU]: [
    'main;handle_request;SSL_write [native];memcpy_fast [native] 20000000',
    'main;handle_request;order_bike 20000000',
    `${CAR_STACK} 30000000`,
  ].join('\n'),
  [OFF_CPU]: `${CAR_STACK} 5000`,
  [ALLOC]: 'main;handle_request;order_bike 4096',
};

async function flame(
  app: FastifyInstance,
  tenant: string,
  type: string,
  selector = '{service_name="ride-sharing-app"}',
) {
  const res = await connectJson(
    app,
    'SelectMergeStacktraces',
    { profileTypeID: type, labelSelector: selector, start: NOW - HOUR, end: NOW },
    { 'x-scope-orgid': tenant },
  );
  expect(res.status).toBe(200);
  const fg = res.body.flamegraph ?? { names: [], levels: [] };
  const levels = (fg.levels ?? []).map((l: { values?: string[] }) => (l.values ?? []).map(Number));
  return printFolded(decodeFlamebearer({ names: fg.names ?? [], levels }))
    .split('\n')
    .map((l) => l.replace(/^total;?/, ''))
    .filter((l) => l !== '')
    .join('\n');
}

async function allFlames(app: FastifyInstance, tenant: string) {
  const out: Record<string, string> = {};
  for (const t of Object.keys(EXPECTED)) out[t] = await flame(app, tenant, t);
  return out;
}

function post(
  app: FastifyInstance,
  tenant: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: OTLP_HTTP_PATH,
    headers: { 'content-type': 'application/x-protobuf', 'x-scope-orgid': tenant, ...headers },
    payload: body,
  });
}

/** A request of a 1.8 sender: Sample values at field 2 and Profile attribute_indices at 12, by hand. */
function request18(): Buffer {
  const sample = new BinaryWriter()
    .uint32((1 << 3) | 0)
    .int32(1)
    .uint32((2 << 3) | 2)
    .fork()
    .int64(1000n)
    .join()
    .finish();
  const profile = new BinaryWriter()
    .uint32((2 << 3) | 2)
    .bytes(sample)
    .uint32((12 << 3) | 2)
    .fork()
    .int32(1)
    .join()
    .finish();
  const scope = new BinaryWriter()
    .uint32((2 << 3) | 2)
    .bytes(profile)
    .finish();
  const resource = new BinaryWriter()
    .uint32((2 << 3) | 2)
    .bytes(scope)
    .finish();
  return Buffer.from(
    new BinaryWriter()
      .uint32((1 << 3) | 2)
      .bytes(resource)
      .finish(),
  );
}

/** The picture as a 1.9 sender encodes it: Sample values at 2, attribute_indices at 3, link_index at 4. */
const request19 = () =>
  Buffer.from(renumberSampleFields(otlpBinary(eBpfPythonRequest(TIME_NS)), { 4: 2, 2: 3, 3: 4 }));

describe('OTLP profiles ingest', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildServer({
      store: await openMemoryStore(),
      now: () => NOW,
      logger: false,
      groupCommit: { intervalMs: 2 },
      limits: resolveLimits({ maxBodyBytes: 256 * 1024, maxDecompressedBodyBytes: 512 * 1024 }),
    });
  });
  afterAll(() => app.close());

  it('OTLP/HTTP protobuf: every table, three sample types, native and Python frames come back as flame graphs', async () => {
    const res = await post(app, 'proto', otlpBinary(eBpfPythonRequest(TIME_NS)));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-protobuf/);
    // Full success: no partial_success.
    expect(fromBinary(ExportProfilesServiceResponseSchema, res.rawPayload).partialSuccess).toBeUndefined();
    expect(await allFlames(app, 'proto')).toEqual(EXPECTED);
  });

  it('resource, scope and sample attributes become series labels with Pyroscope names', async () => {
    const names = await connectJson(
      app,
      'LabelNames',
      { matchers: ['{service_name="ride-sharing-app"}'], start: NOW - HOUR, end: NOW },
      { 'x-scope-orgid': 'proto' },
    );
    const public_ = (names.body.names as string[]).filter((n) => !n.startsWith('__'));
    // String attributes only (process.pid and thread.id are numbers); span/trace ids stay off series.
    expect(public_).toEqual([
      'k8s.namespace.name',
      'k8s.pod.name',
      'process.runtime.name',
      'process.runtime.version',
      'profiler.mode',
      'service_name',
      'vehicle',
    ]);
    expect(
      await flame(app, 'proto', CPU, '{service_name="ride-sharing-app",vehicle="bike",k8s.pod.name="web-1"}'),
    ).toBe('main;handle_request;order_bike 20000000');
  });

  it("service_name: the resource's service.name, a sample's own, or unknown_service:<executable>", async () => {
    const d = new DictionaryBuilder();
    const main = d.location({ kind: 'cpython', mapping: 'python', lines: [{ fn: 'main', file: 'main.py' }] });
    const stack = d.stack([main]);
    const cpu = { sampleType: d.valueType('cpu', 'nanoseconds'), timeUnixNano: TIME_NS };
    const req = otlpRequest(d, [
      {
        attributes: { 'service.name': 'api' },
        profiles: [{ ...cpu, samples: [{ stackIndex: stack, values: [1n] }] }],
      },
      {
        attributes: { 'service.name': 'api' },
        profiles: [
          {
            ...cpu,
            samples: [
              { stackIndex: stack, values: [2n], attributeIndices: [d.attr('service.name', 'worker')] },
            ],
          },
        ],
      },
      {
        attributes: { 'process.executable.name': 'python3.12' },
        profiles: [{ ...cpu, samples: [{ stackIndex: stack, values: [4n] }] }],
      },
    ]);
    expect((await post(app, 'services', otlpBinary(req))).statusCode).toBe(200);
    const of = (service: string) =>
      flame(app, 'services', 'process_cpu:cpu:nanoseconds::', `{service_name="${service}"}`);
    expect([await of('api'), await of('worker'), await of('unknown_service:python3.12')]).toEqual([
      'main 1',
      'main 2',
      'main 4',
    ]);
  });

  it('OTLP/HTTP JSON with gzip: the same flame graphs', async () => {
    const body = gzipSync(otlpJson(eBpfPythonRequest(TIME_NS)));
    const res = await post(app, 'json', body, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(await allFlames(app, 'json')).toEqual(EXPECTED);
  });

  it('partial success: a profile with a bad index is rejected and counted, the others are written', async () => {
    const req = eBpfPythonRequest(TIME_NS);
    req.resourceProfiles[0]!.scopeProfiles[0]!.profiles[1]!.samples[0]!.stackIndex = 99;
    const res = await post(app, 'partial', otlpBinary(req));
    expect(res.statusCode).toBe(200);
    const partial = fromBinary(ExportProfilesServiceResponseSchema, res.rawPayload).partialSuccess!;
    expect(partial.rejectedProfiles).toBe(1n);
    expect(partial.errorMessage).toMatch(/profiles\[1\]: .*stack_table index 99 is outside the table/);
    const flames = await allFlames(app, 'partial');
    expect(flames).toEqual({ ...EXPECTED, [OFF_CPU]: '' });
  });

  it('refusals are coded 4xx and write nothing: all profiles bad, malformed bytes, 1.8 layout, oversized, wrong type', async () => {
    const bad = eBpfPythonRequest(TIME_NS);
    for (const p of bad.resourceProfiles[0]!.scopeProfiles[0]!.profiles) p.samples[0]!.stackIndex = 99;
    const good = otlpBinary(eBpfPythonRequest(TIME_NS));
    const d = new DictionaryBuilder();
    const huge = otlpRequest(d, [
      { attributes: { 'service.name': 'ride-sharing-app', pad: 'x'.repeat(300 * 1024) }, profiles: [] },
    ]);
    const cases: [string, Buffer | string, Record<string, string>, number, string][] = [
      ['all rejected', otlpBinary(bad), {}, 400, 'malformed_profile'],
      ['truncated', good.subarray(0, good.length - 7), {}, 400, 'malformed_body'],
      ['1.8 layout', request18(), {}, 400, 'unsupported_otlp_version'],
      ['not JSON', '{"resourceProfiles": [', { 'content-type': 'application/json' }, 400, 'malformed_json'],
      [
        'unknown JSON field (1.8 names)',
        '{"resourceProfiles":[{"scopeProfiles":[{"profiles":[{"sample":[]}]}]}]}',
        { 'content-type': 'application/json' },
        400,
        'malformed_body',
      ],
      ['body over the limit', otlpBinary(huge), {}, 413, 'body_too_large'],
      [
        'gzip bomb',
        gzipSync(Buffer.alloc(4 * 1024 * 1024)),
        { 'content-encoding': 'gzip' },
        413,
        'decompressed_too_large',
      ],
      ['not gzip', good, { 'content-encoding': 'gzip' }, 400, 'malformed_gzip'],
      ['content type', good, { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    ];
    const answers = [];
    for (const [what, body, headers] of cases) {
      const res = await post(app, 'refused', body, headers);
      answers.push([what, res.statusCode, res.json().error]);
    }
    expect(answers).toEqual(cases.map(([what, , , status, code]) => [what, status, code]));
    expect(await allFlames(app, 'refused')).toEqual({ [CPU]: '', [OFF_CPU]: '', [ALLOC]: '' });
    // The refusals cost the data written before them nothing.
    expect(await allFlames(app, 'proto')).toEqual(EXPECTED);
  });

  it('a 1.9 sender (Sample fields numbered before 1.10) is read as it meant: the same flame graphs', async () => {
    expect(sniffLegacyLayout(request19())?.release).toBe('1.9');
    const res = await post(app, 'v19', request19());
    expect(res.statusCode).toBe(200);
    expect(await allFlames(app, 'v19')).toEqual(EXPECTED);
  });

  it('a 1.8 sender is refused, naming the field that gave it away', async () => {
    const res = await post(app, 'refused', request18());
    expect(res.json().message).toMatch(/Profile field 12 is set.*reads opentelemetry-proto 1\.9 and newer/);
  });
});

describe('OTLP gRPC over HTTP/2 cleartext on the HTTP port', () => {
  let app: FastifyInstance;
  let url: string;
  let client: http2.ClientHttp2Session;
  beforeAll(async () => {
    app = await buildServer({
      store: await openMemoryStore(),
      now: () => NOW,
      logger: false,
      groupCommit: { intervalMs: 2 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    client = http2.connect(url);
  });
  // The app closes while the client still holds its HTTP/2 session (GOAWAY ends it; without that,
  // close would wait for the session's idle timeout and this hook would time out).
  afterAll(async () => {
    await app.close();
    expect(client.closed || client.destroyed).toBe(true);
  });

  /** One unary gRPC call: the framed message in, status, trailers and the framed answer out. */
  function grpcCall(message: Uint8Array, headers: Record<string, string> = {}, flag = 0) {
    return new Promise<{ status: number; trailers: http2.IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const frame = Buffer.alloc(5 + message.length);
        frame[0] = flag;
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        const stream = client.request({
          ':method': 'POST',
          ':path': OTLP_GRPC_PATH,
          'content-type': 'application/grpc',
          te: 'trailers',
          ...headers,
        });
        let status = 0;
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => {
          status = Number(h[':status']);
          // A Trailers-Only answer (errors) carries grpc-status in the headers.
          if (h['grpc-status'] !== undefined) trailers = h;
        });
        stream.on('trailers', (t) => (trailers = t));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve({ status, trailers, body: Buffer.concat(chunks) }));
        stream.on('error', reject);
        stream.end(frame);
      },
    );
  }

  it('Export over gRPC writes the profiles; the answer is a framed ExportProfilesServiceResponse', async () => {
    const res = await grpcCall(otlpBinary(eBpfPythonRequest(TIME_NS)), { 'x-scope-orgid': 'grpc' });
    expect([res.status, res.trailers['grpc-status']]).toEqual([200, '0']);
    expect(res.body.readUInt32BE(1)).toBe(res.body.length - 5);
    expect(
      fromBinary(ExportProfilesServiceResponseSchema, res.body.subarray(5)).partialSuccess,
    ).toBeUndefined();
    expect(await allFlames(app, 'grpc')).toEqual(EXPECTED);
  });

  it('a gzip-compressed message (grpc-encoding) is read too', async () => {
    const res = await grpcCall(
      gzipSync(otlpBinary(eBpfPythonRequest(TIME_NS))),
      { 'x-scope-orgid': 'grpc-gzip', 'grpc-encoding': 'gzip' },
      1,
    );
    expect(res.trailers['grpc-status']).toBe('0');
    expect(await allFlames(app, 'grpc-gzip')).toEqual(EXPECTED);
  });

  it('refusals are gRPC statuses with the coded message; nothing is written', async () => {
    const legacy = await grpcCall(request18(), { 'x-scope-orgid': 'grpc-bad' });
    expect(legacy.trailers['grpc-status']).toBe('3'); // INVALID_ARGUMENT
    expect(decodeURIComponent(String(legacy.trailers['grpc-message']))).toMatch(
      /opentelemetry-proto 1\.9 and newer/,
    );
    const garbage = await grpcCall(Buffer.from('not a protobuf message at all'), {
      'x-scope-orgid': 'grpc-bad',
    });
    expect(garbage.trailers['grpc-status']).toBe('3');
    expect(await allFlames(app, 'grpc-bad')).toEqual({ [CPU]: '', [OFF_CPU]: '', [ALLOC]: '' });
  });

  it('HTTP/1.1 and OTLP/HTTP still answer on the same port', async () => {
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    // Any route answers over HTTP/2 too (same app behind the bridge).
    const h2Ready = await new Promise<[string | undefined, string]>((resolve, reject) => {
      const stream = client.request({ ':method': 'GET', ':path': '/ready' });
      let status: string | undefined;
      let text = '';
      stream.on('response', (h) => (status = String(h[':status'])));
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve([status, text]));
      stream.on('error', reject);
    });
    expect(h2Ready).toEqual(['200', 'ready\n']);
    const res = await fetch(`${url}${OTLP_HTTP_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'x-scope-orgid': 'h1' },
      body: otlpBinary(eBpfPythonRequest(TIME_NS)),
    });
    expect(res.status).toBe(200);
    expect(await allFlames(app, 'h1')).toEqual(EXPECTED);
  });
});

describe('OTLP behind --auth keys: the write scope, like the other write routes', () => {
  let app: FastifyInstance;
  let client: http2.ClientHttp2Session;
  beforeAll(async () => {
    app = await buildServer({
      store: await openMemoryStore(),
      now: () => NOW,
      logger: false,
      auth: 'keys',
      groupCommit: { intervalMs: 2 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    client = http2.connect(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('no key 401, a read key 403, a write key writes to its own tenant; gRPC without a key is UNAUTHENTICATED', async () => {
    const body = otlpBinary(eBpfPythonRequest(TIME_NS));
    const read = (await app.hotpathAuth.keys.create('acme', 'read', 'r', NOW)).key;
    const write = (await app.hotpathAuth.keys.create('acme', 'write', 'w', NOW)).key;
    const as = (key?: string) =>
      app.inject({
        method: 'POST',
        url: OTLP_HTTP_PATH,
        headers: {
          'content-type': 'application/x-protobuf',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        payload: body,
      });
    expect([(await as()).statusCode, (await as(read)).statusCode, (await as(write)).statusCode]).toEqual([
      401, 403, 200,
    ]);
    const flame = await connectJson(
      app,
      'SelectMergeStacktraces',
      {
        profileTypeID: ALLOC,
        labelSelector: '{service_name="ride-sharing-app"}',
        start: NOW - HOUR,
        end: NOW,
      },
      { authorization: `Bearer ${read}` },
    );
    expect(flame.body.flamegraph.names).toContain('order_bike');

    const status = await new Promise<string | undefined>((resolve, reject) => {
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const stream = client.request({
        ':method': 'POST',
        ':path': OTLP_GRPC_PATH,
        'content-type': 'application/grpc',
      });
      stream.on('response', (h) => resolve(h['grpc-status'] as string | undefined));
      stream.on('error', reject);
      stream.resume();
      stream.end(frame);
    });
    expect(status).toBe('16');
  });
});
