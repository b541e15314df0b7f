// Status codes of the read API, rows derived from Pyroscope's http_status_codes_test.go (compat §3.5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProtoWriter } from '../src/connect/wire.ts';
import { CPU, HOUR, NOW, serverWith } from './query-helpers.ts';

const ALLOC = 'memory:alloc_objects:count:space:bytes';
const start = NOW - HOUR;
const end = NOW;
const sel = { profileTypeID: CPU, labelSelector: '{}', start, end };
const renderQ = encodeURIComponent(`${CPU}{service_name="pyroscope"}`);

type Row = [name: string, method: string, body: unknown, status: number, error?: string];

const connectRows: Record<string, Row[]> = {
  ProfileTypes: [
    ['valid', 'POST', { start, end }, 200],
    ['zero range', 'POST', {}, 200],
    ['start after end', 'POST', { start: end, end: start }, 400, 'invalid_time_range'],
  ],
  LabelNames: [
    ['valid', 'POST', { start, end }, 200],
    ['with matchers', 'POST', { matchers: ['{namespace="default"}'], start, end }, 200],
    ['no time range', 'POST', {}, 400, 'missing_time_range'],
    ['bad matchers', 'POST', { matchers: ['!bad_syntax!'], start, end }, 400, 'invalid_selector'],
    ['start after end', 'POST', { start: end, end: start }, 400, 'invalid_time_range'],
    ['range above 7 d', 'POST', { start: end - 8 * 24 * HOUR, end }, 400, 'query_range_too_long'],
  ],
  LabelValues: [
    ['valid', 'POST', { name: 'service_name', start, end }, 200],
    ['two matchers', 'POST', { name: 'service_name', matchers: ['{a="b"}', '{c="d"}'], start, end }, 200],
    ['empty name', 'POST', { name: '', start, end }, 400, 'missing_label_name'],
    ['missing name', 'POST', { start, end }, 400, 'missing_label_name'],
    ['no time range', 'POST', { name: 'service_name' }, 400, 'missing_time_range'],
    ['bad matchers', 'POST', { name: 'x', matchers: ['!bad_syntax!'], start, end }, 400, 'invalid_selector'],
  ],
  Series: [
    ['valid', 'POST', { matchers: ['{service_name="test"}'], start, end }, 200],
    [
      'label names',
      'POST',
      { matchers: ['{service_name="test"}'], labelNames: ['service_name'], start, end },
      200,
    ],
    ['no time range', 'POST', { matchers: ['{service_name="test"}'] }, 400, 'missing_time_range'],
    ['start after end', 'POST', { start: end, end: start }, 400, 'invalid_time_range'],
  ],
  SelectMergeStacktraces: [
    ['valid', 'POST', sel, 200],
    ['max nodes', 'POST', { ...sel, maxNodes: 1024 }, 200],
    ['format tree', 'POST', { ...sel, format: 2 }, 200],
    ['format by name', 'POST', { ...sel, format: 'PROFILE_FORMAT_FLAMEGRAPH' }, 200],
    ['max nodes above 1,048,576', 'POST', { ...sel, maxNodes: 1_048_577 }, 400, 'max_nodes_too_large'],
    ['negative max nodes', 'POST', { ...sel, maxNodes: -1 }, 400, 'invalid_max_nodes'],
    ['missing profile type', 'POST', { labelSelector: '{}', start, end }, 400, 'missing_profile_type'],
    [
      'invalid profile type',
      'POST',
      { ...sel, profileTypeID: 'invalid_format' },
      400,
      'invalid_profile_type',
    ],
    ['missing label selector', 'POST', { profileTypeID: CPU, start, end }, 400, 'missing_label_selector'],
    ['invalid label selector', 'POST', { ...sel, labelSelector: '!bad_syntax!' }, 400, 'invalid_selector'],
    ['no time range', 'POST', { profileTypeID: CPU, labelSelector: '{}' }, 400, 'missing_time_range'],
    ['start after end', 'POST', { ...sel, start: end, end: start }, 400, 'invalid_time_range'],
    ['int64 as a fraction', 'POST', { ...sel, start: 1.5 }, 400, 'malformed_json'],
    ['GET', 'GET', undefined, 405],
    ['PUT', 'PUT', sel, 405],
  ],
  SelectMergeProfile: [
    ['valid', 'POST', sel, 200],
    ['no time range', 'POST', { profileTypeID: CPU, labelSelector: '{}' }, 400, 'missing_time_range'],
    ['invalid selector', 'POST', { ...sel, labelSelector: '!bad_syntax!' }, 400, 'invalid_selector'],
  ],
  SelectSeries: [
    ['valid', 'POST', { ...sel, step: 15 }, 200],
    ['group by and limit', 'POST', { ...sel, step: 15, groupBy: ['service_name'], limit: 10 }, 200],
    ['no step', 'POST', sel, 400, 'missing_step'],
    ['negative step', 'POST', { ...sel, step: -1 }, 400, 'missing_step'],
    [
      'no time range',
      'POST',
      { profileTypeID: CPU, labelSelector: '{}', step: 15 },
      400,
      'missing_time_range',
    ],
    [
      'missing label selector',
      'POST',
      { profileTypeID: CPU, start, end, step: 15 },
      400,
      'missing_label_selector',
    ],
    ['bad aggregation', 'POST', { ...sel, step: 15, aggregation: 'MEDIAN' }, 400, 'malformed_json'],
  ],
  Diff: [
    ['valid', 'POST', { left: sel, right: sel }, 200],
    ['missing left', 'POST', { right: sel }, 400, 'missing_diff_side'],
    ['missing right', 'POST', { left: sel }, 400, 'missing_diff_side'],
    [
      'invalid side',
      'POST',
      { left: sel, right: { ...sel, profileTypeID: '' } },
      400,
      'missing_profile_type',
    ],
  ],
  SelectMergeSpanProfile: [
    ['valid', 'POST', sel, 200],
    ['span selector', 'POST', { ...sel, spanSelector: ['9a517183f26a089d'] }, 200],
    ['short span id', 'POST', { ...sel, spanSelector: ['abc'] }, 400, 'invalid_span_id'],
    ['non-hex span id', 'POST', { ...sel, spanSelector: ['9a517183f26a089z'] }, 400, 'invalid_span_id'],
    ['format tree', 'POST', { ...sel, spanSelector: ['9a517183f26a089d'], format: 2 }, 200],
  ],
  GetProfileStats: [['empty body object', 'POST', {}, 200]],
};

describe('read API status codes', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    ({ app } = await serverWith([
      { labels: { service_name: 'pyroscope' }, timeMs: NOW - 60_000, folded: ['a;b 1'] },
    ]));
  });
  afterAll(async () => {
    await app.close();
  });

  for (const [methodName, rows] of Object.entries(connectRows)) {
    it.each(rows)(`${methodName}: %s → %i`, async (_name, method, body, status, error) => {
      const res = await app.inject({
        method: method as 'POST',
        url: `/querier.v1.QuerierService/${methodName}`,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      expect(res.statusCode).toBe(status);
      if (error !== undefined) expect(JSON.parse(res.body).error).toBe(error);
      if (status === 400) expect(JSON.parse(res.body).code).toBe('invalid_argument');
    });
  }

  it.each(Object.keys(connectRows))(
    '%s: invalid JSON, empty body → 400; text/plain → 415',
    async (methodName) => {
      const url = `/querier.v1.QuerierService/${methodName}`;
      const bad = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '{"invalid json"',
      });
      expect(bad.statusCode).toBe(400);
      const empty = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(empty.statusCode).toBe(400);
      const text = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: '{}',
      });
      expect(text.statusCode).toBe(415);
    },
  );

  it('malformed binary protobuf → 400 with the offset, never 500', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from([0x0a, 0x50, 0x41]),
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toBe('malformed_protobuf');
    // A string field sent with the varint wire type.
    const wrong = new ProtoWriter().int64(1, 5).finish();
    const res2 = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(wrong),
    });
    expect(res2.statusCode).toBe(400);
  });

  const render: [string, string, number, string?][] = [
    ['valid', `query=${renderQ}&from=now-15m&until=now`, 200],
    ['dot', `query=${renderQ}&from=now-15m&until=now&format=dot`, 200],
    ['dot max-nodes', `query=${renderQ}&from=now-15m&until=now&format=dot&max-nodes=50`, 200],
    ['group by many', `query=${renderQ}&from=now-15m&until=now&groupBy=service_name&groupBy=region`, 200],
    ['aggregation invalid', `query=${renderQ}&from=now-15m&until=now&aggregation=invalid`, 200],
    ['maxNodes invalid', `query=${renderQ}&from=now-15m&until=now&maxNodes=invalid`, 200],
    ['maxNodes 0', `query=${renderQ}&from=now-15m&until=now&maxNodes=0`, 200],
    [
      'maxNodes too large',
      `query=${renderQ}&from=now-15m&until=now&maxNodes=2000000`,
      400,
      'max_nodes_too_large',
    ],
    ['all zero range', `query=${renderQ}&from=0&until=0`, 400, 'missing_time_range'],
    ['from zero', `query=${renderQ}&from=0&until=now`, 400, 'missing_time_range'],
    ['until zero', `query=${renderQ}&from=now-15m&until=0`, 400, 'missing_time_range'],
    ['dot with zero range', `query=${renderQ}&from=0&until=0&format=dot`, 400, 'missing_time_range'],
    ['missing query', 'from=now-15m&until=now', 400, 'missing_parameter'],
    ['empty query', 'query=&from=now-15m&until=now', 400, 'missing_parameter'],
    ['bad query', 'query=bad_query&from=now-15m&until=now', 400, 'invalid_selector'],
    [
      'no profile type',
      `query=${encodeURIComponent('{service_name="test"}')}&from=now-15m&until=now`,
      400,
      'invalid_selector',
    ],
    [
      'bad profile type',
      `query=${encodeURIComponent('invalid_format{service_name="test"}')}&from=now-15m&until=now`,
      400,
      'invalid_selector',
    ],
    ['bad time', `query=${renderQ}&from=yesterday&until=now`, 400, 'invalid_time'],
  ];
  it.each(render)('/pyroscope/render %s → %i', async (_name, qs, status, error) => {
    const res = await app.inject({ method: 'GET', url: `/pyroscope/render?${qs}` });
    expect(res.statusCode).toBe(status);
    if (error !== undefined) expect(JSON.parse(res.body).error).toBe(error);
  });

  const diffQs = (l: string, r: string, lf = 'now-30m') =>
    `leftQuery=${l}&leftFrom=${lf}&leftUntil=now-15m&rightQuery=${r}&rightFrom=now-15m&rightUntil=now`;
  const renderDiff: [string, string, number, string?][] = [
    ['valid', diffQs(renderQ, renderQ), 200],
    [
      'missing left',
      'leftFrom=now-30m&leftUntil=now-15m&rightQuery=' + renderQ + '&rightFrom=now-15m&rightUntil=now',
      400,
      'missing_parameter',
    ],
    ['bad right', diffQs(renderQ, 'bad_query'), 400, 'invalid_selector'],
    ['left from zero', diffQs(renderQ, renderQ, '0'), 400, 'missing_time_range'],
    ['types differ', diffQs(renderQ, encodeURIComponent(`${ALLOC}{}`)), 400, 'profile_type_mismatch'],
  ];
  it.each(renderDiff)('/pyroscope/render-diff %s → %i', async (_name, qs, status, error) => {
    const res = await app.inject({ method: 'GET', url: `/pyroscope/render-diff?${qs}` });
    expect(res.statusCode).toBe(status);
    if (error !== undefined) expect(JSON.parse(res.body).error).toBe(error);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s on render and render-diff → 405', async (method) => {
    for (const url of [
      `/pyroscope/render?query=${renderQ}`,
      '/pyroscope/render-diff',
      '/render',
      '/pyroscope/label-values?label=x',
    ]) {
      const res = await app.inject({ method: method as 'POST', url });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET');
    }
  });
});
