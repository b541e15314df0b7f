// Write path → read path: folded text POSTed to /ingest comes back out of render and Connect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/app.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import { HOUR, NOW, connectJson } from './query-helpers.ts';

describe('ingest then query', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildServer({ store: await openMemoryStore(), now: () => NOW, logger: false });
    const from = Math.floor((NOW - 60_000) / 1000);
    const res = await app.inject({
      method: 'POST',
      url: `/ingest?name=${encodeURIComponent('ride.cpu{region=eu}')}&from=${from}&until=${from + 10}&format=folded&sampleRate=100&spyName=pyspy`,
      headers: { 'content-type': 'text/plain' },
      payload: 'a;b;e 1\na;c 2\na;c;d 1\n',
    });
    if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${res.body}`);
  });
  afterAll(async () => {
    await app.close();
  });

  it('the ingested profile is queryable with the same shape', async () => {
    const types = await connectJson(app, 'ProfileTypes', { start: NOW - HOUR, end: NOW });
    const cpu = types.body.profileTypes.find(
      (t: { sampleType: string }) => t.sampleType === 'cpu' || t.sampleType === 'samples',
    );
    expect(cpu).toBeDefined();
    const res = await connectJson(app, 'SelectMergeStacktraces', {
      profileTypeID: cpu.ID,
      labelSelector: '{service_name="ride", region="eu"}',
      start: NOW - HOUR,
      end: NOW,
    });
    expect(res.status).toBe(200);
    expect(res.body.flamegraph.names).toEqual(['total', 'a', 'c', 'd', 'b', 'e']);
    // Values may be scaled by the write path (samples → ns at the sample rate); proportions stay.
    const top = res.body.flamegraph.levels[0].values.map(Number);
    const cLevel = res.body.flamegraph.levels[2].values.map(Number);
    expect(cLevel[5] / top[1]).toBeCloseTo(3 / 4, 9);
    const apps = await app.inject({ method: 'GET', url: '/api/apps' });
    expect(JSON.parse(apps.body).map((a: { name: string }) => a.name)).toContain(`ride.${cpu.sampleType}`);
  });
});
