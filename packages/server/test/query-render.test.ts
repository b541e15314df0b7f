// Legacy HTTP read API: /pyroscope/render (flamebearer + timeline + groups + metadata, DOT),
// /pyroscope/render-diff, /pyroscope/label-values and the OG /render, /labels, /label-values, /api/apps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { calcPointIntervalSec, parseAttime } from '../src/query/render-time.ts';
import { ALLOC, CPU, HOUR, NOW, serverWith } from './query-helpers.ts';

describe('attime and CalcPointInterval', () => {
  it.each([
    ['1779721200000', NOW],
    ['1779721200', NOW],
    ['1779721200000000', NOW],
    ['1779721200000000000', NOW],
    ['20260525', Date.UTC(2026, 4, 25)],
    ['now', NOW],
    ['now-1h', NOW - HOUR],
    ['now-15m', NOW - 15 * 60_000],
    ['now-2d', NOW - 2 * 24 * HOUR],
    ['now-3h30m', null],
    ['yesterday', null],
  ])('%s → %s', (text, want) => {
    expect(parseAttime(text, NOW)).toBe(want);
  });

  it.each([
    [HOUR, 15],
    [6 * HOUR, 15],
    [12 * HOUR, 30],
    [24 * HOUR, 60],
    [7 * 24 * HOUR, 300],
    [30 * 24 * HOUR, 1800],
  ])('range %i ms → step %i s', (rangeMs, step) => {
    expect(calcPointIntervalSec(NOW - rangeMs, NOW)).toBe(step);
  });
});

describe('legacy HTTP', () => {
  let app: FastifyInstance;
  const from = String(NOW - HOUR);
  const until = String(NOW);

  beforeAll(async () => {
    ({ app } = await serverWith([
      {
        labels: { service_name: 'ride', region: 'eu', pyroscope_spy: 'pyspy' },
        timeMs: NOW - HOUR,
        folded: ['a;b;e 1', 'a;c 2'],
      },
      { labels: { service_name: 'ride', region: 'us' }, timeMs: NOW - HOUR + 20_000, folded: ['a;c;d 1'] },
      { labels: { service_name: 'ride' }, timeMs: NOW - 60_000, folded: ['a;c 10'] },
      { type: ALLOC, labels: { service_name: 'ride' }, timeMs: NOW - 60_000, folded: ['a;alloc 5'] },
      { tenant: 't2', labels: { service_name: 'ride' }, timeMs: NOW - 60_000, folded: ['hidden 5'] },
    ]));
  });
  afterAll(async () => {
    await app.close();
  });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return {
      status: res.statusCode,
      body: res.body,
      json: () => JSON.parse(res.body),
      type: res.headers['content-type'],
    };
  };
  const q = (s: string) => encodeURIComponent(s);

  it('/pyroscope/render: flamebearer, metadata and a zero-filled 15 s timeline for 1 h', async () => {
    const res = await get(
      `/pyroscope/render?query=${q(`${CPU}{region=~"eu|us"}`)}&from=${from}&until=${until}`,
    );
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.version).toBe(1);
    expect(body.flamebearer).toEqual({
      names: ['total', 'a', 'c', 'd', 'b', 'e'],
      levels: [
        [0, 4, 0, 0],
        [0, 4, 0, 1],
        [0, 1, 0, 4, 0, 3, 2, 2],
        [0, 1, 1, 5, 2, 1, 1, 3],
      ],
      numTicks: 4,
      maxSelf: 2,
    });
    expect(body.metadata).toEqual({
      format: 'single',
      spyName: '',
      sampleRate: 1_000_000_000,
      units: 'samples',
      name: 'cpu',
    });
    expect(body.timeline.startTime).toBe((NOW - HOUR) / 1000);
    expect(body.timeline.durationDelta).toBe(15);
    expect(body.timeline.samples).toHaveLength(240);
    expect(body.timeline.samples.slice(0, 3)).toEqual([3, 1, 0]);
    expect(body.timeline.samples.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(body.groups).toBeNull();
    expect(body.heatmap).toBeNull();
  });

  it('/pyroscope/render groups timelines by the first groupBy label ("*" when absent)', async () => {
    const res = await get(
      `/pyroscope/render?query=${q(`${CPU}{}`)}&from=${from}&until=${until}&groupBy=region&groupBy=ignored`,
    );
    const groups = res.json().groups;
    expect(Object.keys(groups).sort()).toEqual(['*', 'eu', 'us']);
    expect(groups.eu.samples[0]).toBe(3);
    expect(groups.us.samples[1]).toBe(1);
    expect(groups['*'].samples[(HOUR - 60_000) / 15_000]).toBe(10);
  });

  it('/pyroscope/render with aggregation=avg, max-nodes, attime strings', async () => {
    const res = await get(
      `/pyroscope/render?query=${q(`${CPU}{}`)}&from=now-1h&until=now&aggregation=avg&max-nodes=1`,
    );
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.flamebearer.names).toContain('other');
    expect(body.flamebearer.numTicks).toBe(14);
  });

  it('/pyroscope/render format=dot answers Graphviz text', async () => {
    const res = await get(
      `/pyroscope/render?query=${q(`${CPU}{service_name="ride"}`)}&from=${from}&until=${until}&format=dot`,
    );
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body.startsWith('digraph "unnamed" {')).toBe(true);
    expect(res.body).toMatch(/N\d+ \[label="c\\n12 \(85\.71%\)\\nof 13 \(92\.86%\)"/);
    expect(res.body).toMatch(/N\d+ -> N\d+ \[label=" 13"/);
    const empty = await get(
      `/pyroscope/render?query=${q(`${CPU}{service_name="none"}`)}&from=${from}&until=${until}&format=dot`,
    );
    expect(empty.status).toBe(200);
    expect(empty.body).toBe('');
  });

  it('/pyroscope/render-diff: double format with left and right ticks', async () => {
    const res = await get(
      `/pyroscope/render-diff?leftQuery=${q(`${CPU}{region="eu"}`)}&leftFrom=${from}&leftUntil=${until}` +
        `&rightQuery=${q(`${CPU}{region="us"}`)}&rightFrom=${from}&rightUntil=${until}`,
    );
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.metadata.format).toBe('double');
    expect(body.leftTicks).toBe(3);
    expect(body.rightTicks).toBe(1);
    expect(body.flamebearer.numTicks).toBe(4);
    expect(body.flamebearer.levels[0]).toEqual([0, 3, 0, 0, 1, 0, 0]);
    expect(body.timeline).toBeNull();
  });

  it('/pyroscope/render-diff rejects different profile types', async () => {
    const res = await get(
      `/pyroscope/render-diff?leftQuery=${q(`${CPU}{}`)}&leftFrom=${from}&leftUntil=${until}` +
        `&rightQuery=${q(`${ALLOC}{}`)}&rightFrom=${from}&rightUntil=${until}`,
    );
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('profile_type_mismatch');
  });

  it('/pyroscope/label-values: __name__ lists profile types; other labels their values', async () => {
    expect((await get('/pyroscope/label-values?label=__name__')).json()).toEqual([ALLOC, CPU]);
    expect(
      (await get(`/pyroscope/label-values?label=region&query=${q('{service_name="ride"}')}`)).json(),
    ).toEqual(['eu', 'us']);
    expect((await get('/pyroscope/label-values')).status).toBe(400);
  });

  it('OG /render with app.cpu and name=, /labels, /label-values, /api/apps', async () => {
    const og = await get(`/render?query=${q('ride.cpu{region="eu"}')}&from=${from}&until=${until}`);
    expect(og.status).toBe(200);
    expect(og.json().flamebearer.numTicks).toBe(3);
    const byName = await get(`/render?name=${q('ride.alloc_objects')}&from=${from}&until=${until}`);
    expect(byName.json().flamebearer.numTicks).toBe(5);
    expect(byName.json().metadata.units).toBe('objects');
    const unknown = await get(`/render?query=${q('nobody.cpu')}&from=${from}&until=${until}`);
    expect(unknown.json().flamebearer).toEqual({
      names: ['total'],
      levels: [[0, 0, 0, 0]],
      numTicks: 0,
      maxSelf: 0,
    });

    expect((await get('/labels')).json()).toEqual(['__name__', 'pyroscope_spy', 'region', 'service_name']);
    expect((await get('/label-values?label=__name__')).json()).toEqual(['ride.alloc_objects', 'ride.cpu']);
    expect((await get('/label-values?label=region')).json()).toEqual(['eu', 'us']);
    expect((await get('/api/apps')).json()).toEqual([
      { name: 'ride.alloc_objects', spyName: '', sampleRate: 100, units: 'objects' },
      { name: 'ride.cpu', spyName: 'pyspy', sampleRate: 1_000_000_000, units: 'samples' },
    ]);
    const diff = await get(
      `/render-diff?leftQuery=${q('ride.cpu{region="eu"}')}&leftFrom=${from}&leftUntil=${until}&rightQuery=${q('ride.cpu{}')}&rightFrom=${from}&rightUntil=${until}`,
    );
    expect(diff.json().rightTicks).toBe(14);
  });

  it('tenants see only their own data on the legacy routes', async () => {
    const res = await get(`/pyroscope/render?query=${q(`${CPU}{}`)}&from=${from}&until=${until}`, {
      'x-scope-orgid': 't2',
    });
    expect(res.json().flamebearer.names).toEqual(['total', 'hidden']);
    expect((await get('/api/apps', { 'x-scope-orgid': 'nobody' })).json()).toEqual([]);
  });
});
