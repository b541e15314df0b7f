// SelectMergeStacktraces and Diff with PROFILE_FORMAT_FUNCTIONS (the Drilldown app's top table) and
// PROFILE_FORMAT_SANDWICH (its sandwich view): the app's JSON requests and answers (int64 as strings),
// the same in binary proto (Hotpath's field numbers, proto/querier/v1/functions.proto), totals taken
// from the whole profile whatever the row limit, and coded rejections.
import { fromBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProtoReader, ProtoWriter } from '../src/connect/wire.ts';
import { FunctionTableSchema, SandwichReportSchema } from '../src/gen/querier/v1/functions_pb.ts';
import { CPU, HOUR, NOW, connectJson, serverWith } from './query-helpers.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// main (total 100) calls work (70: self 50, and 20 through helper) and idle (30); helper recurses.
const PICTURE = ['main;work 50', 'main;work;helper;helper 20', 'main;idle 30'];
const OTHER = ['main;work 10', 'main;idle 90'];

async function open(): Promise<FastifyInstance> {
  ({ app } = await serverWith([
    { labels: { service_name: 'ride' }, timeMs: NOW - HOUR / 2, folded: PICTURE },
    { labels: { service_name: 'other' }, timeMs: NOW - HOUR / 2, folded: OTHER },
  ]));
  return app;
}

const selection = (service: string) => ({
  profileTypeID: CPU,
  labelSelector: `{service_name="${service}"}`,
  start: NOW - HOUR,
  end: NOW,
});

/** The bytes of a top-level length-delimited field of a protobuf message. */
function fieldBytes(bytes: Uint8Array, wanted: number): Uint8Array | undefined {
  const r = new ProtoReader(bytes);
  let out: Uint8Array | undefined;
  while (!r.done) {
    const [f, w] = r.key();
    if (f === wanted && w === 2) out = r.bytes();
    else r.skip(w);
  }
  return out;
}

describe('PROFILE_FORMAT_FUNCTIONS', () => {
  it('SelectMergeStacktraces: the app request → rows by total with the whole profile total', async () => {
    const app = await open();
    const res = await connectJson(app, 'SelectMergeStacktraces', {
      ...selection('ride'),
      format: 'PROFILE_FORMAT_FUNCTIONS',
      maxNodes: 2,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      functions: {
        total: '100',
        totalFunctions: '4',
        functions: [
          { name: 'main', total: '100' },
          { name: 'work', self: '50', total: '70' },
        ],
      },
    });
    // The recursive helper counts once per stack in its total.
    const all = await connectJson(app, 'SelectMergeStacktraces', {
      ...selection('ride'),
      format: 'PROFILE_FORMAT_FUNCTIONS',
    });
    expect(all.body.functions.functions).toContainEqual({ name: 'helper', self: '20', total: '20' });
  });

  it('SelectMergeStacktraces in binary: format=6 is 5, functions at field 6', async () => {
    const app = await open();
    const body = new ProtoWriter()
      .string(1, CPU)
      .string(2, '{service_name="ride"}')
      .int64(3, NOW - HOUR)
      .int64(4, NOW)
      .int64(5, 1, true)
      .int64(6, 5)
      .finish();
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(body),
    });
    expect(res.statusCode).toBe(200);
    const table = fromBinary(FunctionTableSchema, fieldBytes(res.rawPayload, 6)!);
    expect([table.total, table.functions.map((f) => [f.name, f.self, f.total])]).toEqual([
      100n,
      [['main', 0n, 100n]],
    ]);
  });

  it('Diff: the app request (format and maxNodes on the outer message) → rows joined by name', async () => {
    const app = await open();
    const res = await connectJson(app, 'Diff', {
      left: selection('ride'),
      right: selection('other'),
      format: 'PROFILE_FORMAT_FUNCTIONS',
      maxNodes: 3,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      functions: {
        leftTotal: '100',
        rightTotal: '100',
        functions: [
          { name: 'main', leftTotal: '100', rightTotal: '100' },
          { name: 'idle', leftSelf: '30', leftTotal: '30', rightSelf: '90', rightTotal: '90' },
          { name: 'work', leftSelf: '50', leftTotal: '70', rightSelf: '10', rightTotal: '10' },
        ],
      },
    });
    // Without the format, Diff still answers the flame graph.
    const fg = await connectJson(app, 'Diff', { left: selection('ride'), right: selection('other') });
    expect(Object.keys(fg.body)).toEqual(['flamegraph']);
  });

  it('Diff in binary: format at field 3, max_nodes at 4; the table at field 2', async () => {
    const app = await open();
    const side = (service: string) => (w: ProtoWriter) =>
      w
        .string(1, CPU)
        .string(2, `{service_name="${service}"}`)
        .int64(3, NOW - HOUR)
        .int64(4, NOW);
    const body = new ProtoWriter()
      .message(1, side('ride'))
      .message(2, side('other'))
      .int64(3, 5)
      .int64(4, 1, true)
      .finish();
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/Diff',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(body),
    });
    expect(res.statusCode).toBe(200);
    expect(fieldBytes(res.rawPayload, 1)).toBeUndefined();
    expect(fieldBytes(res.rawPayload, 2)!.length).toBeGreaterThan(0);
  });
});

describe('PROFILE_FORMAT_SANDWICH', () => {
  it('the app request → callers and callees of the function with names by index', async () => {
    const app = await open();
    const res = await connectJson(app, 'SelectMergeStacktraces', {
      ...selection('ride'),
      format: 'PROFILE_FORMAT_SANDWICH',
      sandwichFunction: 'work',
      maxNodes: 16384,
    });
    expect(res.status).toBe(200);
    const s = res.body.sandwich;
    const picture = (n: any, depth = 0): string[] => [
      `${'  '.repeat(depth)}${s.names[n.nameIndex ?? 0]} total=${n.total ?? '0'} self=${n.self ?? '0'}`,
      ...(n.children ?? []).flatMap((c: any) => picture(c, depth + 1)),
    ];
    expect([s.total, s.self]).toEqual(['70', '50']);
    expect(picture(s.callers)).toEqual(['work total=70 self=0', '  main total=70 self=70']);
    expect(picture(s.callees)).toEqual([
      'work total=70 self=50',
      '  helper total=20 self=0',
      '    helper total=20 self=20',
    ]);
  });

  it('binary: sandwich_function at field 12, the report at field 7; a small maxNodes leaves an `other` marked truncated', async () => {
    const app = await open();
    const body = new ProtoWriter()
      .string(1, CPU)
      .string(2, '{}')
      .int64(3, NOW - HOUR)
      .int64(4, NOW)
      .int64(5, 1, true)
      .int64(6, 6)
      .string(12, 'main')
      .finish();
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(body),
    });
    expect(res.statusCode).toBe(200);
    const report = fromBinary(SandwichReportSchema, fieldBytes(res.rawPayload, 7)!);
    expect(report.names[report.callees!.nameIndex]).toBe('main');
    expect(report.total).toBe(200n); // both services: {} selects them all
    const truncated = report
      .callees!.children.filter((c) => c.truncated)
      .map((c) => report.names[c.nameIndex]);
    expect(truncated).toEqual(['other']);
  });

  it('codes a missing sandwichFunction; an unknown function gets zero roots', async () => {
    const app = await open();
    const missing = await connectJson(app, 'SelectMergeStacktraces', {
      ...selection('ride'),
      format: 'PROFILE_FORMAT_SANDWICH',
    });
    expect([missing.status, missing.body.error]).toEqual([400, 'missing_sandwich_function']);
    const unknown = await connectJson(app, 'SelectMergeStacktraces', {
      ...selection('ride'),
      format: 'PROFILE_FORMAT_SANDWICH',
      sandwichFunction: 'nowhere',
    });
    expect(unknown.body).toEqual({ sandwich: { names: ['nowhere'], callers: {}, callees: {} } });
  });
});
