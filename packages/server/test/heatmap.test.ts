// SelectHeatmap (individual profiles and spans, exemplars with span ids) and AnalyzeQuery: the
// Drilldown app's JSON and hand-encoded binary requests (Pyroscope's field numbers), the bucket and
// slot arithmetic as a picture, and coded rejections.
import { fromBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProtoWriter } from '../src/connect/wire.ts';
import { AnalyzeQueryResponseSchema, SelectHeatmapResponseSchema } from '../src/gen/querier/v1/heatmap_pb.ts';
import { CPU, HOUR, NOW, batchOf, connectJson, serverWith } from './query-helpers.ts';

const MIN = 60_000;
const SPAN = 0xabcn;
const TRACE = '0123456789abcdef0123456789abcdef';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Four CPU profiles of service ride (totals 10, 30 in eu; 100, 55 in us); the eu 30 carries a span. */
async function open(): Promise<FastifyInstance> {
  const { app: a, store } = await serverWith([]);
  const batch = batchOf([
    { labels: { service_name: 'ride', region: 'eu' }, timeMs: NOW - 50 * MIN, folded: ['main;a 10'] },
    { labels: { service_name: 'ride', region: 'eu' }, timeMs: NOW - 49 * MIN, folded: ['main;b 30'] },
    { labels: { service_name: 'ride', region: 'us' }, timeMs: NOW - 20 * MIN, folded: ['main;a 100'] },
    { labels: { service_name: 'ride', region: 'us' }, timeMs: NOW - 19.5 * MIN, folded: ['main;c 55'] },
  ]);
  const withSpan = {
    ...batch.profiles[1]!,
    spanIds: BigUint64Array.from([SPAN]),
    spans: [{ spanId: SPAN, name: 'GET /ride', traceId: TRACE, total: 30, samples: 3 }],
  };
  await store.append({
    ...batch,
    profiles: [batch.profiles[0]!, withSpan, batch.profiles[2]!, batch.profiles[3]!],
  });
  app = a;
  return a;
}

const heatmapRequest = {
  profileTypeID: CPU,
  labelSelector: '{service_name="ride"}',
  start: NOW - HOUR,
  end: NOW,
  step: 600,
  groupBy: ['region'],
  queryType: 'HEATMAP_QUERY_TYPE_INDIVIDUAL',
  exemplarType: 'EXEMPLAR_TYPE_INDIVIDUAL',
};

/** A series as `label: slot (minutes before NOW) bucket=count` lines. */
function picture(series: any[]): string[] {
  return series.flatMap((s) =>
    (s.slots ?? []).map((slot: any) => {
      const cells = (slot.counts as number[]).flatMap((c, i) =>
        c > 0 ? [`b${i}(≥${slot.yMin[i]})=${c}`] : [],
      );
      const label = (s.labels ?? []).map((l: any) => l.value).join(',') || '*';
      return `${label}: -${(NOW - Number(slot.timestamp)) / MIN}m ${cells.join(' ')}`;
    }),
  );
}

describe('SelectHeatmap', () => {
  it('individual profiles: 20 buckets from the smallest to the largest total, slots by step, one series per group', async () => {
    const app = await open();
    const res = await connectJson(app, 'SelectHeatmap', heatmapRequest);
    expect(res.status).toBe(200);
    expect(picture(res.body.series)).toEqual([
      'eu: -50m b0(≥10)=1',
      'eu: -40m b4(≥28)=1',
      'us: -20m b19(≥95)=1',
      'us: -10m b10(≥55)=1',
    ]);
    // Exemplars: the largest profile of each counted bucket, with its span when it has one.
    const eu40 = res.body.series[0].slots[1].exemplars;
    expect(eu40).toEqual([
      expect.objectContaining({
        timestamp: String(NOW - 49 * MIN),
        value: '30',
        spanId: '0000000000000abc',
        traceId: TRACE,
      }),
    ]);
    expect(eu40[0].labels.map((l: any) => l.name)).not.toContain('region');
  });

  it('binary request (step=5 double, group_by=6, query_type=7, exemplar_type=8, limit=9) → the same picture, top-N series', async () => {
    const app = await open();
    const body = new ProtoWriter()
      .string(1, CPU)
      .string(2, '{service_name="ride"}')
      .int64(3, NOW - HOUR)
      .int64(4, NOW)
      .double(5, 600)
      .string(6, 'region')
      .int64(7, 1)
      .int64(8, 1)
      .int64(9, 1, true)
      .finish();
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectHeatmap',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(body),
    });
    expect(res.statusCode).toBe(200);
    const msg = fromBinary(SelectHeatmapResponseSchema, res.rawPayload);
    // limit 1: only us (total 155) stays; exemplar type NONE: no exemplars.
    expect(msg.series.map((s) => s.labels.map((l) => l.value))).toEqual([['us']]);
    expect(msg.series[0]!.slots.map((s) => [Number(s.timestamp), s.exemplars.length])).toEqual([
      [NOW - 20 * MIN, 0],
      [NOW - 10 * MIN, 0],
    ]);
  });

  it('spans: one point per span at its last profile, exemplars name the span', async () => {
    const app = await open();
    const res = await connectJson(app, 'SelectHeatmap', {
      ...heatmapRequest,
      queryType: 'HEATMAP_QUERY_TYPE_SPAN',
      exemplarType: 'EXEMPLAR_TYPE_SPAN',
    });
    expect(picture(res.body.series)).toEqual(['*: -40m b19(≥30)=1']);
    expect(res.body.series[0].slots[0].exemplars[0]).toMatchObject({
      spanId: '0000000000000abc',
      value: '30',
    });
  });

  it('codes a missing step, a bad query type and a missing selector', async () => {
    const app = await open();
    const noStep = await connectJson(app, 'SelectHeatmap', { ...heatmapRequest, step: 0 });
    expect([noStep.status, noStep.body.error]).toEqual([400, 'missing_step']);
    const badType = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectHeatmap',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        new ProtoWriter()
          .string(1, CPU)
          .string(2, '{}')
          .int64(3, NOW - HOUR)
          .int64(4, NOW)
          .double(5, 60)
          .int64(7, 9)
          .finish(),
      ),
    });
    expect([badType.statusCode, JSON.parse(badType.body).error]).toEqual([400, 'invalid_heatmap_query_type']);
    const noSel = await connectJson(app, 'SelectHeatmap', { ...heatmapRequest, labelSelector: '' });
    expect(noSel.body.error).toBe('missing_label_selector');
  });
});

describe('AnalyzeQuery', () => {
  it('the app request {start, end, query} → series and profiles the query reads', async () => {
    const app = await open();
    const res = await connectJson(app, 'AnalyzeQuery', {
      start: NOW - HOUR,
      end: NOW,
      query: `${CPU}{service_name="ride"}`,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      queryScopes: [
        { componentType: 'store (memory)', componentCount: '1', seriesCount: '2', profileCount: '4' },
      ],
      queryImpact: { totalQueriedSeries: '2' },
    });
    const eu = await connectJson(app, 'AnalyzeQuery', {
      start: NOW - HOUR,
      end: NOW - 30 * MIN,
      query: '{region="eu"}',
    });
    expect(eu.body.queryScopes[0]).toMatchObject({ seriesCount: '1', profileCount: '2' });
  });

  it('binary: start=2, end=3, query=4', async () => {
    const app = await open();
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/AnalyzeQuery',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        new ProtoWriter()
          .int64(2, NOW - HOUR)
          .int64(3, NOW)
          .string(4, '{}')
          .finish(),
      ),
    });
    expect(res.statusCode).toBe(200);
    const msg = fromBinary(AnalyzeQueryResponseSchema, res.rawPayload);
    expect(msg.queryScopes[0]!.profileCount).toBe(4n);
    const bad = await connectJson(app, 'AnalyzeQuery', { start: NOW, end: NOW - 1, query: '{}' });
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_time_range']);
  });
});
