// The read path through buildServer + inject: Connect QuerierService (JSON and binary) against the
// exact flamebearer worked examples of compat §3.2, series, diff, stats and tenancy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePprof, totalValue } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { ProtoReader } from '../src/connect/wire.ts';
import type { Metrics } from '../src/metrics.ts';
import { decodeFlameGraphResponse, encodeSelectRequest } from '../src/query/messages.ts';
import { ALLOC, CPU, HOUR, NOW, connectJson, serverWith } from './query-helpers.ts';

const range = { start: NOW - HOUR, end: NOW };

describe('QuerierService', () => {
  let app: FastifyInstance;
  let metrics: Metrics;

  beforeAll(async () => {
    ({ app, metrics } = await serverWith([
      // The worked example of Pyroscope's flamegraph_test.go, split over two profiles and two regions.
      {
        labels: { service_name: 'ride', region: 'eu' },
        timeMs: NOW - 30 * 60_000,
        folded: ['a;b;e 1', 'a;c 1'],
      },
      {
        labels: { service_name: 'ride', region: 'us' },
        timeMs: NOW - 10 * 60_000,
        folded: ['a;c 1', 'a;c;d 1'],
      },
      { labels: { service_name: 'other', region: 'us' }, timeMs: NOW - 10 * 60_000, folded: ['x 100'] },
      { type: ALLOC, labels: { service_name: 'ride' }, timeMs: NOW - 10 * 60_000, folded: ['a;alloc 5'] },
      {
        tenant: 'secret',
        labels: { service_name: 'ride', region: 'eu' },
        timeMs: NOW - 10 * 60_000,
        folded: ['hidden 7'],
      },
      // Outside the range: never counted.
      { labels: { service_name: 'ride', region: 'eu' }, timeMs: NOW - 2 * HOUR, folded: ['a;old 1000'] },
    ]));
  });
  afterAll(async () => {
    await app.close();
  });

  it('SelectMergeStacktraces (JSON) gives the exact worked example, int64 as strings', async () => {
    const res = await connectJson(app, 'SelectMergeStacktraces', {
      profileTypeID: CPU,
      labelSelector: '{service_name="ride"}',
      ...range,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      flamegraph: {
        names: ['total', 'a', 'c', 'd', 'b', 'e'],
        levels: [
          { values: ['0', '4', '0', '0'] },
          { values: ['0', '4', '0', '1'] },
          { values: ['0', '1', '0', '4', '0', '3', '2', '2'] },
          { values: ['0', '1', '1', '5', '2', '1', '1', '3'] },
        ],
        total: '4',
        maxSelf: '2',
      },
    });
  });

  it('SelectMergeStacktraces (binary proto) round trips and answers application/proto', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        encodeSelectRequest({
          profileTypeId: CPU,
          labelSelector: '{region=~"e.*"}',
          start: range.start,
          end: range.end,
          maxNodes: 1024,
        }),
      ),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/proto');
    const fg = decodeFlameGraphResponse(res.rawPayload)!;
    expect(fg.names).toEqual(['total', 'a', 'c', 'b', 'e']);
    expect(fg.levels).toEqual([
      [0, 2, 0, 0],
      [0, 2, 0, 1],
      [0, 1, 0, 3, 0, 1, 1, 2],
      [0, 1, 1, 4],
    ]);
    expect(fg.total).toBe(2);
  });

  it('truncates to maxNodes with an "other" node', async () => {
    const res = await connectJson(app, 'SelectMergeStacktraces', {
      profileTypeID: CPU,
      labelSelector: '{}',
      ...range,
      maxNodes: 2,
    });
    expect(res.status).toBe(200);
    expect(res.body.flamegraph.names).toContain('other');
    expect(res.body.flamegraph.total).toBe('104');
  });

  it('ProfileTypes, LabelNames, LabelValues and Series', async () => {
    const types = await connectJson(app, 'ProfileTypes', range);
    expect(types.body.profileTypes).toEqual([
      {
        ID: ALLOC,
        name: 'memory',
        sampleType: 'alloc_objects',
        sampleUnit: 'count',
        periodType: 'space',
        periodUnit: 'bytes',
      },
      {
        ID: CPU,
        name: 'process_cpu',
        sampleType: 'cpu',
        sampleUnit: 'nanoseconds',
        periodType: 'cpu',
        periodUnit: 'nanoseconds',
      },
    ]);
    // Grafana's health check: a zero range is accepted.
    expect((await connectJson(app, 'ProfileTypes', {})).status).toBe(200);

    const names = await connectJson(app, 'LabelNames', { matchers: ['{service_name="other"}'], ...range });
    expect(names.body).toEqual({ names: ['__name__', '__profile_type__', 'region', 'service_name'] });

    const values = await connectJson(app, 'LabelValues', {
      name: 'region',
      matchers: ['{service_name="ride"}'],
      ...range,
    });
    expect(values.body).toEqual({ names: ['eu', 'us'] });
    const either = await connectJson(app, 'LabelValues', {
      name: 'service_name',
      matchers: ['{region="eu"}', '{region="us"}'],
      ...range,
    });
    expect(either.body).toEqual({ names: ['other', 'ride'] });

    const series = await connectJson(app, 'Series', {
      matchers: ['{service_name="ride"}'],
      labelNames: ['__profile_type__', 'service_name'],
      ...range,
    });
    expect(series.body).toEqual({
      labelsSet: [
        {
          labels: [
            { name: '__profile_type__', value: ALLOC },
            { name: 'service_name', value: 'ride' },
          ],
        },
        {
          labels: [
            { name: '__profile_type__', value: CPU },
            { name: 'service_name', value: 'ride' },
          ],
        },
      ],
    });
  });

  it('SelectSeries: sparse points per step, groupBy, limit, average', async () => {
    const base = { profileTypeID: CPU, labelSelector: '{}', ...range, step: 600 };
    const all = await connectJson(app, 'SelectSeries', base);
    expect(all.body).toEqual({
      series: [
        {
          points: [
            { value: 2, timestamp: String(NOW - 30 * 60_000) },
            { value: 102, timestamp: String(NOW - 10 * 60_000) },
          ],
        },
      ],
    });
    const grouped = await connectJson(app, 'SelectSeries', { ...base, groupBy: ['service_name'] });
    expect(grouped.body.series.map((s: any) => [s.labels, s.points.length])).toEqual([
      [[{ name: 'service_name', value: 'other' }], 1],
      [[{ name: 'service_name', value: 'ride' }], 2],
    ]);
    const top = await connectJson(app, 'SelectSeries', { ...base, groupBy: ['service_name'], limit: 1 });
    expect(top.body.series.map((s: any) => s.labels[0].value)).toEqual(['other']);
    const avg = await connectJson(app, 'SelectSeries', {
      ...base,
      aggregation: 'TIME_SERIES_AGGREGATION_TYPE_AVERAGE',
    });
    expect(avg.body.series[0].points.map((p: any) => p.value)).toEqual([2, 51]);
  });

  it('Diff gives the exact worked example of flamegraph_diff_test.go', async () => {
    const { app: diffApp } = await serverWith([
      { labels: { service_name: 'l' }, timeMs: NOW - 60_000, folded: ['a;b 1', 'a;c 2'] },
      { labels: { service_name: 'r' }, timeMs: NOW - 60_000, folded: ['a;b 4', 'a;c 8'] },
    ]);
    const side = (s: string) => ({ profileTypeID: CPU, labelSelector: `{service_name="${s}"}`, ...range });
    const res = await connectJson(diffApp, 'Diff', { left: side('l'), right: side('r') });
    expect(res.status).toBe(200);
    expect(res.body.flamegraph).toEqual({
      names: ['total', 'a', 'c', 'b'],
      levels: [
        { values: ['0', '3', '0', '0', '12', '0', '0'] },
        { values: ['0', '3', '0', '0', '12', '0', '1'] },
        { values: ['0', '1', '1', '0', '4', '4', '3', '0', '2', '2', '0', '8', '8', '2'] },
      ],
      total: '15',
      maxSelf: '8',
      leftTicks: '3',
      rightTicks: '12',
    });
    expect((await connectJson(diffApp, 'Diff', { left: side('l') })).status).toBe(400);
    await diffApp.close();
  });

  it('SelectMergeProfile answers pprof bytes that decode to the same totals', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeProfile',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        encodeSelectRequest(
          { profileTypeId: CPU, labelSelector: '{service_name="ride"}', ...range },
          'profile',
        ),
      ),
    });
    expect(res.statusCode).toBe(200);
    const [profile] = decodePprof(new Uint8Array(res.rawPayload));
    expect(totalValue(profile!)).toBe(4);
    const json = await connectJson(app, 'SelectMergeProfile', {
      profileTypeID: CPU,
      labelSelector: '{service_name="ride"}',
      ...range,
    });
    expect(json.body.stringTable).toContain('a');
    expect(json.body.sample.length).toBeGreaterThan(0);
  });

  it('GetProfileStats', async () => {
    const res = await connectJson(app, 'GetProfileStats', {});
    expect(res.body).toEqual({
      dataIngested: true,
      oldestProfileTime: String(NOW - 2 * HOUR),
      newestProfileTime: String(NOW - 10 * 60_000),
    });
    const empty = await connectJson(app, 'GetProfileStats', {}, { 'x-scope-orgid': 'nobody' });
    expect(empty.body).toEqual({});
  });

  it('keeps tenants apart', async () => {
    const secret = await connectJson(
      app,
      'SelectMergeStacktraces',
      { profileTypeID: CPU, labelSelector: '{}', ...range },
      { 'x-scope-orgid': 'secret' },
    );
    expect(secret.body.flamegraph.names).toEqual(['total', 'hidden']);
    const anon = await connectJson(app, 'SelectMergeStacktraces', {
      profileTypeID: CPU,
      labelSelector: '{}',
      ...range,
    });
    expect(anon.body.flamegraph.names).not.toContain('hidden');
    const badTenant = await connectJson(app, 'LabelNames', range, { 'x-scope-orgid': 'a/b' });
    expect(badTenant.status).toBe(400);
  });

  it('SelectMergeSpanProfile: only the selected spans (none here), never the whole service', async () => {
    const req = { profileTypeID: CPU, labelSelector: '{}', ...range };
    const none = await connectJson(app, 'SelectMergeSpanProfile', req);
    expect(none.status).toBe(200);
    expect(none.body.flamegraph.total).toBeUndefined();
    const unknown = await connectJson(app, 'SelectMergeSpanProfile', {
      ...req,
      spanSelector: ['9a517183f26a089d'],
    });
    expect(unknown.status).toBe(200);
    expect(unknown.body.flamegraph.total).toBeUndefined();
  });

  it('records query latency by method', async () => {
    await connectJson(app, 'LabelNames', range);
    expect(metrics.render()).toMatch(/hotpath_query_duration_seconds_count\{method="LabelNames"\} [1-9]/);
  });

  it('reads a binary request field by field (unknown fields skipped)', async () => {
    const body = encodeSelectRequest({
      profileTypeId: CPU,
      labelSelector: '{}',
      start: range.start,
      end: range.end,
    });
    // Append an unknown field 99 (varint): the server must skip it.
    const extra = Buffer.concat([Buffer.from(body), Buffer.from([0x98, 0x06, 0x01])]);
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: extra,
    });
    expect(res.statusCode).toBe(200);
    const r = new ProtoReader(new Uint8Array(res.rawPayload));
    expect(r.key()).toEqual([1, 2]);
  });
});
