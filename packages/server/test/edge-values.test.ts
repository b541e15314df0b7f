// Numbers and times at the edge (issue 11): sample values must be finite integers within ±2^53 − 1
// on every write path; repeated or out-of-range query parameters are coded 400s; and a stored value
// that is somehow Infinity, NaN or huge can never hang an encoder or put null/Infinity in JSON.
import { MAX_SAMPLE_VALUE } from '@hotpath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFlameGraphResponse, encodeSelectRequest } from '../src/query/messages.ts';
import { CPU, HOUR, NOW, connectJson, serverWith } from './query-helpers.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';

const FOUR_HUNDRED_DIGITS = '9'.repeat(400);

describe('sample values on the write path', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await openTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  const ingest = (query: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'POST', url: `/ingest?${query}`, payload, headers });

  it.each([
    [
      'a 400-digit folded count (parses as Infinity)',
      'name=big',
      `main;f ${FOUR_HUNDRED_DIGITS}`,
      'Infinity',
    ],
    ['a count above 2^53', 'name=big&sampleRate=0', `main;f ${2 ** 60}`, 2 ** 60],
    [
      'a count that overflows once scaled by 1e9/sampleRate',
      'name=big.cpu&sampleRate=1',
      `main;f ${2 ** 40}`,
      2 ** 40 * 1e9,
    ],
    [
      'counts whose sum passes 2^53',
      'name=big&sampleRate=0',
      `main;f ${2 ** 52}\nmain;g ${2 ** 52}`,
      2 ** 53,
    ],
    ['a lines body', 'name=big&format=lines&sampleRate=0', `${'main;f\n'.repeat(2)}`, null],
  ])(
    '%s is a 422 sample_value_out_of_range naming the limit and the value',
    async (_name, query, body, actual) => {
      const res = await ingest(query, body);
      if (actual === null) {
        // lines counts occurrences: it cannot overflow, and is accepted.
        expect(res.statusCode).toBe(200);
        return;
      }
      expect(res.statusCode).toBe(422);
      const j = res.json();
      expect(j).toMatchObject({
        code: 'invalid_argument',
        error: 'sample_value_out_of_range',
        limit: MAX_SAMPLE_VALUE,
        actual,
      });
      expect(j.message).toContain(String(MAX_SAMPLE_VALUE));
    },
  );

  it('a pprof value beyond 2^53 is rejected on /ingest and on Push', async () => {
    const pprof = pprofOf(`main;f ${2 ** 62}`, { timeMs: NOW_MS });
    const res = await ingest('name=big&format=pprof', pprof);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'sample_value_out_of_range', limit: MAX_SAMPLE_VALUE });
    const push = await s.app.inject({
      method: 'POST',
      url: '/push.v1.PusherService/Push',
      payload: Buffer.from(
        pushRequest([{ labels: { __name__: 'process_cpu', service_name: 'big' }, profiles: [pprof] }]),
      ),
      headers: { 'content-type': 'application/proto' },
    });
    expect(push.statusCode).toBe(400);
    expect(push.json()).toMatchObject({ error: 'sample_value_out_of_range' });
  });

  it('a speedscope weight of 1e400 is rejected', async () => {
    const doc = {
      $schema: 'https://www.speedscope.app/file-format-schema.json',
      shared: { frames: [{ name: 'f' }] },
      profiles: [
        {
          type: 'sampled',
          name: 'p',
          unit: 'none',
          startValue: 0,
          endValue: 1,
          samples: [[0]],
          weights: ['WEIGHT'],
        },
      ],
    };
    const res = await ingest(
      'name=big&format=speedscope',
      JSON.stringify(doc).replace('"WEIGHT"', `1${'0'.repeat(400)}`),
    );
    expect([400, 422]).toContain(res.statusCode);
    expect(res.json().error).toMatch(/sample_value_out_of_range|malformed_body/);
  });

  it('after a rejected huge value the service still answers binary queries and /ready', async () => {
    expect((await ingest('name=svc', `main;f ${FOUR_HUNDRED_DIGITS}`)).statusCode).toBe(422);
    expect((await ingest('name=svc', 'main;f 3')).statusCode).toBe(200);
    const res = await s.app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        encodeSelectRequest({
          profileTypeId: CPU,
          labelSelector: '{service_name="svc"}',
          start: NOW_MS - HOUR,
          end: NOW_MS + HOUR,
        }),
      ),
    });
    expect(res.statusCode).toBe(200);
    expect(decodeFlameGraphResponse(res.rawPayload)?.total).toBe(3 * 1e7);
    expect((await s.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});

describe('query parameters of /ingest and the render routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await openTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it.each([
    'name=a&name=b',
    'name=a&from=1&from=2',
    'name=a&format=lines&format=folded',
    'name=a&sampleRate=1&sampleRate=2',
    'name=a&spyName=x&spyName=y',
    'name=a&until=now&until=now',
    'name=a&units=a&units=b',
    'name=a&aggregationType=sum&aggregationType=avg',
  ])('/ingest?%s (a repeated parameter) is a 400 invalid_parameter', async (query) => {
    const res = await s.app.inject({ method: 'POST', url: `/ingest?${query}`, payload: 'main;f 1' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', error: 'invalid_parameter' });
  });

  it.each([
    `from=${'9'.repeat(300)}`,
    'from=now-99999999999d',
    'until=now%2B99999999999y',
    'from=99999999',
    'until=-99999999999999999999',
    'from=1e300',
  ])('/ingest?name=a&%s (a time out of range) is a 400 invalid_parameter', async (query) => {
    const res = await s.app.inject({ method: 'POST', url: `/ingest?name=a&${query}`, payload: 'main;f 1' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_parameter' });
  });

  it.each([
    `from=${'9'.repeat(300)}`,
    'from=now-99999999999d&until=now-99999999998d',
    'from=now-1h&until=now-99999999999d',
    'from=1e300&until=-99999999999999999999',
    'until=now%2B99999999999y',
  ])('/pyroscope/render?%s is a 400 invalid_time', async (query) => {
    const res = await s.app.inject({ method: 'GET', url: `/pyroscope/render?query=${CPU}{}&${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_time' });
  });

  it.each([
    `/pyroscope/render?query=${CPU}{}&query=x&from=now-1h&from=now-2h&until=now&until=x&maxNodes=1&maxNodes=2&format=json&format=dot`,
    `/pyroscope/render-diff?leftQuery=${CPU}{}&leftQuery=x&rightQuery=${CPU}{}&rightQuery=y&leftFrom=now-1h&leftFrom=1&rightFrom=now-1h&rightFrom=2`,
    '/pyroscope/label-values?label=service_name&label=x&query={}&query=x',
    '/label-values?label=service_name&label=x&from=now-1h&from=x',
    '/labels?query={}&query=x&from=now-1h&from=x',
    '/api/apps?from=now-1h&from=x&until=now&until=y',
  ])('%s (repeated parameters) takes the first value of each, never a 500', async (url) => {
    const res = await s.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
  });
});

describe('numbers in Connect query requests', () => {
  const base = { profileTypeID: CPU, labelSelector: '{}' };

  it.each([
    [{ start: '1e300', end: String(NOW) }, 'malformed_json'],
    [{ start: String(2 ** 60), end: String(2 ** 60 + 1) }, 'malformed_json'],
    [{ start: String(NOW), end: '8000000000000000' }, 'invalid_time'],
    [{ start: '-5', end: String(NOW) }, 'invalid_time'],
  ])('SelectMergeStacktraces %j is a 400 %s', async (range, code) => {
    const { app } = await serverWith([]);
    const res = await connectJson(app, 'SelectMergeStacktraces', { ...base, ...range });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_argument', error: code });
    await app.close();
  });

  it('a binary request with an end beyond year 9999 is a 400 invalid_time', async () => {
    const { app } = await serverWith([]);
    const res = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        encodeSelectRequest({ profileTypeId: CPU, labelSelector: '{}', start: NOW, end: 2 ** 62 }),
      ),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_time' });
    await app.close();
  });

  it.each(['Infinity', 'NaN', 1e400])('SelectSeries with step %j is a 400, not a 500', async (step) => {
    const { app } = await serverWith([]);
    const body = JSON.stringify({
      ...base,
      start: String(NOW - HOUR),
      end: String(NOW),
      step: 'STEP',
    }).replace('"STEP"', typeof step === 'string' ? JSON.stringify(step) : '1e400');
    const res = await connectJson(app, 'SelectSeries', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/malformed_json|missing_step/);
    await app.close();
  });
});

describe('stored values that are not finite or beyond 2^53 (defence in depth)', () => {
  const rows = ['main;inf Infinity', 'main;nan NaN', 'main;huge 1e300', 'main;neg -Infinity', 'main;ok 5'];
  const select = {
    profileTypeID: CPU,
    labelSelector: '{}',
    start: String(NOW - HOUR),
    end: String(NOW + HOUR),
  };

  it('binary and JSON Connect answers, render and pprof export stay finite and terminate', async () => {
    const { app } = await serverWith([{ labels: { service_name: 'bad' }, timeMs: NOW, folded: rows }]);
    const bin = await app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectMergeStacktraces',
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        encodeSelectRequest({ profileTypeId: CPU, labelSelector: '{}', start: NOW - HOUR, end: NOW + HOUR }),
      ),
    });
    expect(bin.statusCode).toBe(200);
    const fg = decodeFlameGraphResponse(bin.rawPayload)!;
    expect(fg.names).toContain('huge');
    for (const level of fg.levels) for (const v of level) expect(Math.abs(v)).toBeLessThanOrEqual(2 ** 63);

    const json = await connectJson(app, 'SelectMergeStacktraces', select);
    expect(json.status).toBe(200);
    const text = JSON.stringify(json.body);
    expect(text).not.toMatch(/Infinity|NaN|null|e\+/);

    const pprof = await connectJson(app, 'SelectMergeProfile', select);
    expect(pprof.status).toBe(200);
    expect(JSON.stringify(pprof.body)).not.toMatch(/Infinity|NaN|null|e\+/);

    const series = await connectJson(app, 'SelectSeries', { ...select, step: 60 });
    expect(series.status).toBe(200);
    expect(JSON.stringify(series.body)).not.toMatch(/Infinity|NaN|null/);

    const render = await app.inject({
      method: 'GET',
      url: `/pyroscope/render?query=${CPU}{}&from=${NOW - HOUR}&until=${NOW + HOUR}`,
    });
    expect(render.statusCode).toBe(200);
    const fb = render.json();
    const numbers = [
      ...fb.flamebearer.levels.flat(),
      fb.flamebearer.numTicks,
      fb.flamebearer.maxSelf,
      ...fb.timeline.samples,
    ];
    for (const n of numbers) expect(Number.isFinite(n)).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    await app.close();
  });
});
