// hotpath.v1.ChangesService/WhatChanged over the HTTP ingest and read path: twenty minutes of the
// rideshare demo's load (eu-north slow in even minutes) pushed as folded windows, then asked.
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  foldedOf,
  ingestPathOf,
  RIDESHARE_APP,
  rideshareWindows,
  type RideshareWindow,
} from '../../core/src/testing/rideshare.ts';
import { WhatChangedRequestSchema, WhatChangedResponseSchema } from '../src/gen/hotpath/v1/changes_pb.ts';
import { buildServer } from '../src/app.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import { openTestServer, type TestServer } from './support/server.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const PATH = '/hotpath.v1.ChangesService/WhatChanged';
const SELECTOR = `{service_name="${RIDESHARE_APP}"}`;
const LAST_TEN = { start: String(T0), end: String(T0 + 10 * MIN - 1) };

let server: TestServer;

async function push(w: RideshareWindow): Promise<void> {
  const res = await server.app.inject({
    method: 'POST',
    url: ingestPathOf(w),
    headers: { 'content-type': 'text/plain' },
    payload: foldedOf(w),
  });
  expect(res.statusCode).toBe(200);
}

async function ask(body: Record<string, unknown>) {
  const res = await server.app.inject({
    method: 'POST',
    url: PATH,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

beforeAll(async () => {
  server = await openTestServer({ store: await openMemoryStore(), now: () => T0 + 10 * MIN });
  const windows = rideshareWindows({ seed: 7, startMs: T0 - 10 * MIN, durationMs: 20 * MIN, periodS: 60 });
  for (let i = 0; i < windows.length; i += 40) await Promise.all(windows.slice(i, i + 40).map(push));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('WhatChanged', () => {
  it('names eu-north and mutex_lock first for the whole app, links to its slow and fast minutes', async () => {
    const { status, body } = await ask({
      profileTypeId: CPU,
      labelSelector: SELECTOR,
      ...LAST_TEN,
      baseline: 'previous',
    });
    expect(status).toBe(200);
    // Against the ten minutes before (the same load): nothing changed.
    expect(body.grew ?? []).toEqual([]);
    expect(body.shrank ?? []).toEqual([]);
    expect(body.totalChange).toBeUndefined();
    expect(body.baseline).toEqual({ start: String(T0 - 10 * MIN), end: String(T0 - 1) });
    expect([body.baselineCoverage, body.headCoverage, body.coverageWarning]).toEqual([1, 1, undefined]);
    const first = body.findings[0];
    expect(first).toMatchObject({
      kind: 'periods',
      label: 'region',
      value: 'eu-north',
      function: 'mutex_lock',
    });
    // The diff to open: a fast eu-north step on the left, a slow one on the right.
    expect(first.left.labelSelector).toBe(`{service_name="${RIDESHARE_APP}",region="eu-north"}`);
    expect(first.right.labelSelector).toBe(first.left.labelSelector);
    expect(Math.floor((Number(first.right.start) - T0) / MIN) % 2).toBe(0);
    expect(Math.floor((Number(first.left.start) - T0) / MIN) % 2).toBe(1);
    expect(body.minZ).toBe(5);
  });

  it('a baseline the data starts in: only its representative slices are compared, and it says so', async () => {
    // Baseline 12..2 minutes before T0 in slices of 100 s; the data starts 10 minutes before T0:
    //   | empty | starts (left out) | kept | kept | kept | kept |
    const { status, body } = await ask({
      profileTypeId: CPU,
      labelSelector: SELECTOR,
      ...LAST_TEN,
      baselineStart: String(T0 - 12 * MIN),
      baselineEnd: String(T0 - 2 * MIN - 1),
    });
    expect(status).toBe(200);
    expect(body.baselineCoverage).toBeCloseTo(4 / 6, 9);
    expect(body.headCoverage).toBe(1);
    expect(body.baselineCompared).toEqual({
      start: String(T0 - 12 * MIN + 200_000),
      end: String(T0 - 2 * MIN - 1),
    });
    expect(body.headCompared).toEqual(LAST_TEN);
    expect(body.coverageWarning).toMatch(
      /^the baseline has representative data in 4 of its 6 slices .*only those were compared$/,
    );
    expect(body.grew ?? []).toEqual([]);
    expect(body.shrank ?? []).toEqual([]);
  });

  it('for vehicle, car first; the outlier link compares it with the other vehicles', async () => {
    const { body } = await ask({
      profileTypeId: CPU,
      labelSelector: SELECTOR,
      ...LAST_TEN,
      labels: ['vehicle'],
    });
    expect(body.findings[0]).toMatchObject({ label: 'vehicle', value: 'car' });
    const outlier = body.findings.find((f: { kind: string }) => f.kind !== 'changed');
    expect(outlier.right.labelSelector).toContain('vehicle="car"');
  });

  it('answers the binary protocol too', async () => {
    const req = create(WhatChangedRequestSchema, {
      profileTypeId: CPU,
      labelSelector: SELECTOR,
      start: BigInt(T0),
      end: BigInt(T0 + 10 * MIN - 1),
      labels: ['region'],
    });
    const res = await server.app.inject({
      method: 'POST',
      url: PATH,
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(toBinary(WhatChangedRequestSchema, req)),
    });
    expect(res.statusCode).toBe(200);
    const msg = fromBinary(WhatChangedResponseSchema, res.rawPayload);
    expect(msg.findings[0]?.value).toBe('eu-north');
    expect(msg.baseline).toBeUndefined();
  });

  it('rejects bad input with coded errors', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ labelSelector: SELECTOR, ...LAST_TEN }, 'missing_profile_type'],
      [{ profileTypeId: CPU, labelSelector: SELECTOR }, 'missing_time_range'],
      [
        { profileTypeId: CPU, labelSelector: SELECTOR, ...LAST_TEN, baseline: 'yesterday' },
        'invalid_baseline',
      ],
      [
        { profileTypeId: CPU, labelSelector: SELECTOR, ...LAST_TEN, labels: Array(9).fill('region') },
        'too_many_labels',
      ],
      [{ profileTypeId: CPU, labelSelector: SELECTOR, ...LAST_TEN, minZ: -1 }, 'invalid_threshold'],
      [{ profileTypeId: CPU, labelSelector: '{region=', ...LAST_TEN }, 'invalid_selector'],
      [{ profileTypeId: CPU, ...LAST_TEN, start: 'x' }, 'malformed_json'],
    ];
    for (const [req, code] of cases) {
      const { status, body } = await ask(req);
      expect({ error: body.error, status }).toEqual({ error: code, status: 400 });
    }
    const { body } = await ask({
      profileTypeId: CPU,
      labelSelector: SELECTOR,
      ...LAST_TEN,
      labels: Array(9).fill('a'),
    });
    expect(body).toMatchObject({ code: 'invalid_argument', error: 'too_many_labels', limit: 8, actual: 9 });
  });
});

describe('WhatChanged behind the read guard', () => {
  it('with --auth keys: no key 401, a write key 403, a read key 200', async () => {
    const app = await buildServer({
      store: await openMemoryStore(),
      logger: false,
      auth: 'keys',
      groupCommit: { intervalMs: 2 },
      uiDir: '/nonexistent-hotpath-ui',
    });
    try {
      const key = async (scope: 'read' | 'write') =>
        (await app.hotpathAuth.keys.create('acme', scope, scope, T0)).key;
      const call = (headers: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url: PATH,
          headers: { 'content-type': 'application/json', ...headers },
          payload: JSON.stringify({ profileTypeId: CPU, labelSelector: SELECTOR, ...LAST_TEN }),
        });
      expect((await call({})).statusCode).toBe(401);
      expect((await call({ authorization: `Bearer ${await key('write')}` })).statusCode).toBe(403);
      const ok = await call({ authorization: `Bearer ${await key('read')}` });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().findings ?? []).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
