// Authentication and tenant limits, in process (fastify.inject): tenant-from-key isolation over every
// read API, 401/403 bodies, scopes, revocation, the key admin API, /metrics, the Origin check,
// security headers, the tenant and total series caps and the ingest rate limits.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.ts';
import { ProtoWriter } from '../src/connect/wire.ts';
import { resolveLimits, type Limits } from '../src/limits.ts';
import { encodeSelectRequest } from '../src/query/messages.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import type { ApiKeyScope } from '../src/store/types.ts';
import { ALLOC, batchOf, CPU, HOUR, NOW } from './query-helpers.ts';

const ACME_TIME = NOW - HOUR / 2;
const BETA_TIME = NOW - HOUR / 4;
/** Both tenants' CPU samples carry the same span id: a span query must still see one tenant only. */
const SPAN = '00000000000000a1';

async function appWith(auth: 'keys' | 'none', limits: Partial<Limits> = {}): Promise<FastifyInstance> {
  const store = await openMemoryStore();
  // Two tenants with the same service; everything else tells them apart (labels, frames, types, times).
  await store.append(
    batchOf([
      {
        tenant: 'acme',
        labels: { service_name: 'shop', region: 'acme', acme_only_label: 'x' },
        timeMs: ACME_TIME,
        folded: ['main;acme_fn 5'],
        span: SPAN,
      },
      {
        tenant: 'beta',
        labels: { service_name: 'shop', region: 'beta', beta_only_label: 'x' },
        timeMs: BETA_TIME,
        folded: ['main;beta_fn 7'],
        span: SPAN,
      },
      {
        tenant: 'beta',
        type: ALLOC,
        labels: { service_name: 'shop', region: 'beta' },
        timeMs: BETA_TIME,
        folded: ['main;beta_alloc 9'],
      },
    ]),
  );
  return buildServer({
    store,
    now: () => NOW,
    logger: false,
    auth,
    limits: resolveLimits(limits),
    groupCommit: { intervalMs: 2 },
    uiDir: '/nonexistent-hotpath-ui',
  });
}

const keyOf = async (app: FastifyInstance, tenant: string, scope: ApiKeyScope) =>
  (await app.hotpathAuth.keys.create(tenant, scope, `${tenant} ${scope}`, NOW)).key;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, key: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`,
});

/** POST /ingest of one folded profile (one series per app name). */
function ingest(
  app: FastifyInstance,
  headers: Record<string, string>,
  appName = 'svc',
  body = 'main;work 1',
) {
  return app.inject({
    method: 'POST',
    url: `/ingest?name=${encodeURIComponent(`${appName}.cpu`)}&from=${NOW / 1000}`,
    headers: { 'content-type': 'text/plain', ...headers },
    payload: body,
  });
}

const range = { start: NOW - HOUR, end: NOW };
const json = (method: string, body: unknown) => ({
  method: 'POST' as const,
  url: `/querier.v1.QuerierService/${method}`,
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(body),
});
const proto = (method: string, bytes: Uint8Array) => ({
  method: 'POST' as const,
  url: `/querier.v1.QuerierService/${method}`,
  headers: { 'content-type': 'application/proto' },
  payload: Buffer.from(bytes),
});
/** One request as fastify.inject takes it. */
interface Req {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string | Buffer;
}
const get = (url: string): Req => ({ method: 'GET', url, headers: {} });
const q = `from=${NOW - HOUR}&until=${NOW}`;
const cpuQuery = encodeURIComponent(`${CPU}{service_name="shop"}`);

/**
 * Every read API, with the text that only that tenant's answer may contain (default: the tenant's
 * name, which is in its labels, label names and frames).
 */
const READS: { name: string; req: Req; marks?: { acme?: string; beta?: string } }[] = [
  { name: 'ProfileTypes', req: json('ProfileTypes', range), marks: { beta: 'alloc_objects' } },
  { name: 'LabelNames', req: json('LabelNames', { matchers: [], ...range }) },
  { name: 'LabelValues', req: json('LabelValues', { name: 'region', matchers: [], ...range }) },
  { name: 'Series', req: json('Series', { matchers: ['{}'], ...range }) },
  {
    name: 'SelectMergeStacktraces',
    req: json('SelectMergeStacktraces', { profileTypeID: CPU, labelSelector: '{}', ...range }),
  },
  {
    name: 'SelectMergeProfile',
    req: json('SelectMergeProfile', { profileTypeID: CPU, labelSelector: '{}', ...range }),
  },
  {
    name: 'SelectMergeSpanProfile',
    req: json('SelectMergeSpanProfile', {
      profileTypeID: CPU,
      labelSelector: '{}',
      spanSelector: [SPAN],
      ...range,
    }),
  },
  {
    name: 'SelectSeries',
    req: json('SelectSeries', {
      profileTypeID: CPU,
      labelSelector: '{}',
      step: 60,
      groupBy: ['region'],
      ...range,
    }),
  },
  {
    name: 'Diff',
    req: json('Diff', {
      left: { profileTypeID: CPU, labelSelector: '{}', ...range },
      right: { profileTypeID: CPU, labelSelector: '{}', ...range },
    }),
  },
  {
    name: 'GetProfileStats',
    req: json('GetProfileStats', {}),
    marks: { acme: String(ACME_TIME), beta: String(BETA_TIME) },
  },
  // Grafana's datasource speaks binary proto.
  {
    name: 'SelectMergeStacktraces (application/proto)',
    req: proto(
      'SelectMergeStacktraces',
      encodeSelectRequest({ profileTypeId: CPU, labelSelector: '{}', start: range.start, end: range.end }),
    ),
  },
  {
    name: 'LabelValues (application/proto)',
    req: proto(
      'LabelValues',
      new ProtoWriter().string(1, 'region').int64(3, range.start).int64(4, range.end).finish(),
    ),
  },
  { name: '/pyroscope/render', req: get(`/pyroscope/render?query=${cpuQuery}&${q}`) },
  { name: '/render', req: get(`/render?query=${cpuQuery}&${q}`) },
  {
    name: '/pyroscope/render-diff',
    req: get(
      `/pyroscope/render-diff?leftQuery=${cpuQuery}&rightQuery=${cpuQuery}&leftFrom=${NOW - HOUR}&leftUntil=${NOW}&rightFrom=${NOW - HOUR}&rightUntil=${NOW}`,
    ),
  },
  {
    name: '/render-diff',
    req: get(
      `/render-diff?leftQuery=${cpuQuery}&rightQuery=${cpuQuery}&leftFrom=${NOW - HOUR}&leftUntil=${NOW}&rightFrom=${NOW - HOUR}&rightUntil=${NOW}`,
    ),
  },
  { name: '/pyroscope/label-values', req: get(`/pyroscope/label-values?label=region&${q}`) },
  { name: '/labels', req: get(`/labels?${q}`) },
  { name: '/label-values', req: get(`/label-values?label=region&${q}`) },
  {
    name: '/label-values __name__',
    req: get(`/label-values?label=__name__&${q}`),
    marks: { beta: 'alloc_objects' },
  },
  { name: '/api/apps', req: get(`/api/apps?${q}`), marks: { beta: 'alloc_objects' } },
];

describe('auth on: the tenant comes from the key', () => {
  let app: FastifyInstance;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    app = await appWith('keys');
    keys.acme = await keyOf(app, 'acme', 'read');
    keys.beta = await keyOf(app, 'beta', 'read');
  });
  afterAll(async () => app.close());

  for (const read of READS) {
    it(`${read.name}: each key sees its own tenant only, whatever the request names`, async () => {
      for (const [me, other] of [
        ['acme', 'beta'],
        ['beta', 'acme'],
      ] as const) {
        const mine = read.marks === undefined ? me : read.marks[me];
        const theirs = read.marks === undefined ? other : read.marks[other];
        for (const auth of [bearer(keys[me]!), basic(me, keys[me]!), basic('', keys[me]!)]) {
          const res = await app.inject({ ...read.req, headers: { ...read.req.headers, ...auth } });
          expect(res.statusCode, res.body).toBe(200);
          const text = res.rawPayload.toString('latin1');
          if (mine !== undefined) expect(text).toContain(mine);
          if (theirs !== undefined) expect(text).not.toContain(theirs);
        }
        // Naming the other tenant, in the header or as the basic auth user, is refused.
        for (const headers of [
          { ...bearer(keys[me]!), 'x-scope-orgid': other },
          { ...basic(me, keys[me]!), 'x-scope-orgid': other },
          basic(other, keys[me]!),
        ]) {
          const res = await app.inject({ ...read.req, headers: { ...read.req.headers, ...headers } });
          expect(res.statusCode).toBe(403);
          expect(res.json()).toMatchObject({
            code: 'permission_denied',
            error: 'tenant_mismatch',
            tenant: me,
          });
        }
      }
    });
  }

  it('no key or a wrong key: 401 with a Bearer challenge and a coded body, on reads and writes', async () => {
    for (const req of [READS[0]!.req, READS[12]!.req]) {
      const none = await app.inject(req);
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="hotpath"');
      expect(none.json()).toMatchObject({ code: 'unauthenticated', error: 'missing_api_key' });
      const wrong = await app.inject({ ...req, headers: { ...req.headers, ...bearer('hp_not-a-key') } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ code: 'unauthenticated', error: 'invalid_api_key' });
      const garbled = await app.inject({ ...req, headers: { ...req.headers, authorization: 'Token abc' } });
      expect(garbled.json()).toMatchObject({ error: 'invalid_api_key' });
    }
    const write = await ingest(app, {});
    expect(write.statusCode).toBe(401);
    expect(write.json()).toMatchObject({ code: 'unauthenticated', error: 'missing_api_key' });
  });

  it('checks the key before reading the body: no key and a body over the limit is a 401, not a 413', async () => {
    const small = await appWith('keys', { maxBodyBytes: 1024 });
    const res = await ingest(small, {}, 'svc', 'main;work 1\n'.repeat(1000));
    expect(res.statusCode).toBe(401);
    const key = await keyOf(small, 'acme', 'write');
    expect((await ingest(small, bearer(key), 'svc', 'main;work 1\n'.repeat(1000))).statusCode).toBe(413);
    await small.close();
  });

  it('scopes: read cannot write, write cannot read, admin does both', async () => {
    const write = await keyOf(app, 'acme', 'write');
    const admin = await keyOf(app, 'acme', 'admin');
    const denied = await ingest(app, bearer(keys.acme!));
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({
      code: 'permission_denied',
      error: 'insufficient_scope',
      required: 'write',
      actual: 'read',
    });
    const read = READS[4]!.req;
    const noRead = await app.inject({ ...read, headers: { ...read.headers, ...bearer(write) } });
    expect(noRead.statusCode).toBe(403);
    expect(noRead.json()).toMatchObject({ error: 'insufficient_scope', required: 'read', actual: 'write' });
    expect((await ingest(app, bearer(write))).statusCode).toBe(200);
    expect((await ingest(app, basic('acme', write))).statusCode).toBe(200);
    expect((await ingest(app, bearer(admin))).statusCode).toBe(200);
    const adminRead = await app.inject({ ...read, headers: { ...read.headers, ...bearer(admin) } });
    expect(adminRead.statusCode).toBe(200);
    expect(adminRead.body).toContain('acme_fn');
  });

  it("a write lands in the key's tenant, never in the one X-Scope-OrgID names", async () => {
    const write = await keyOf(app, 'acme', 'write');
    expect((await ingest(app, { ...bearer(write), 'x-scope-orgid': 'beta' }, 'sneaky')).statusCode).toBe(403);
    expect((await ingest(app, { ...bearer(write), 'x-scope-orgid': 'acme' }, 'direct')).statusCode).toBe(200);
    const all = { startMs: 0, endMs: NOW + HOUR, selectors: [] };
    const names = (tenant: string) =>
      app.hotpathAuth.keys.store.labelValues({ tenant, ...all, name: 'service_name' });
    expect(await names('acme')).toContain('direct');
    expect(await names('beta')).not.toContain('sneaky');
    expect(await names('acme')).not.toContain('sneaky');
  });

  it('a revoked key stops working at the next request', async () => {
    const admin = await keyOf(app, 'ops', 'admin');
    const write = await app.hotpathAuth.keys.create('acme', 'write', 'to revoke', NOW);
    expect((await ingest(app, bearer(write.key))).statusCode).toBe(200);
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/keys/${write.record.id}`,
      headers: bearer(admin),
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ id: write.record.id, revoked: true });
    const after = await ingest(app, bearer(write.key));
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: 'invalid_api_key' });
  });

  it('key admin API: create shows the key once, list never shows key or hash, admin scope only', async () => {
    const admin = await keyOf(app, 'ops', 'admin');
    const created = await app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: JSON.stringify({ tenant: 'gamma', scope: 'write', name: 'ci' }),
    });
    expect(created.statusCode).toBe(201);
    const made = created.json();
    expect(made).toMatchObject({ tenant: 'gamma', scope: 'write', name: 'ci', createdMs: NOW, revokedMs: 0 });
    expect(made.key).toMatch(/^hp_[A-Za-z0-9_-]{43}$/);
    expect((await ingest(app, basic('gamma', made.key))).statusCode).toBe(200);
    const list = await app.inject({ method: 'GET', url: '/api/keys', headers: bearer(admin) });
    expect(list.statusCode).toBe(200);
    expect(list.json().keys.find((k: { id: string }) => k.id === made.id)).toEqual({
      id: made.id,
      tenant: 'gamma',
      scope: 'write',
      name: 'ci',
      createdMs: NOW,
      revokedMs: 0,
    });
    expect(list.body).not.toContain(made.key);
    expect(list.body).not.toContain('hash');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: JSON.stringify({ tenant: 'gamma', scope: 'root' }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'invalid_argument', error: 'invalid_key_request' });
    const unknown = await app.inject({
      method: 'DELETE',
      url: '/api/keys/0000000000000000',
      headers: bearer(admin),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'key_not_found' });
    const notAdmin = await app.inject({ method: 'GET', url: '/api/keys', headers: bearer(keys.acme!) });
    expect(notAdmin.statusCode).toBe(403);
    expect(notAdmin.json()).toMatchObject({ error: 'insufficient_scope', required: 'admin' });
  });

  it('/metrics needs an admin key', async () => {
    expect((await app.inject(get('/metrics'))).statusCode).toBe(401);
    expect((await app.inject({ ...get('/metrics'), headers: bearer(keys.acme!) })).statusCode).toBe(403);
    const admin = await keyOf(app, 'ops', 'admin');
    const ok = await app.inject({ ...get('/metrics'), headers: bearer(admin) });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('hotpath_ingested_profiles_total');
  });

  it('/ready and the UI need no key', async () => {
    expect((await app.inject(get('/ready'))).statusCode).toBe(200);
    expect((await app.inject(get('/'))).statusCode).toBe(200);
  });
});

describe('auth off', () => {
  it('X-Scope-OrgID picks the tenant; /metrics is open; key management is refused', async () => {
    const app = await appWith('none');
    const read = READS[4]!.req;
    const res = await app.inject({ ...read, headers: { ...read.headers, 'x-scope-orgid': 'beta' } });
    expect(res.body).toContain('beta_fn');
    expect((await app.inject(get('/metrics'))).statusCode).toBe(200);
    const keys = await app.inject({ method: 'GET', url: '/api/keys' });
    expect(keys.statusCode).toBe(403);
    expect(keys.json()).toMatchObject({ code: 'permission_denied', error: 'auth_disabled' });
    await app.close();
  });

  it('caps the number of tenants, so rotating X-Scope-OrgID cannot bypass the series limit', async () => {
    const app = await appWith('none', { maxTenants: 2 });
    expect((await ingest(app, { 'x-scope-orgid': 't1' })).statusCode).toBe(200);
    expect((await ingest(app, { 'x-scope-orgid': 't2' })).statusCode).toBe(200);
    const third = await ingest(app, { 'x-scope-orgid': 't3' });
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({
      code: 'resource_exhausted',
      error: 'tenant_limit',
      limit: 2,
      actual: 3,
    });
    // Known tenants keep writing, new series included.
    expect((await ingest(app, { 'x-scope-orgid': 't1' }, 'another')).statusCode).toBe(200);
    await app.close();
  });

  it('caps the active series of all tenants together', async () => {
    const app = await appWith('none', { maxSeriesTotal: 3, maxSeriesPerTenant: 100 });
    expect((await ingest(app, { 'x-scope-orgid': 't1' }, 'a')).statusCode).toBe(200);
    expect((await ingest(app, { 'x-scope-orgid': 't1' }, 'b')).statusCode).toBe(200);
    expect((await ingest(app, { 'x-scope-orgid': 't2' }, 'a')).statusCode).toBe(200);
    const over = await ingest(app, { 'x-scope-orgid': 't3' }, 'a');
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: 'total_series_limit', limit: 3, actual: 4 });
    // Series already active are still accepted.
    expect((await ingest(app, { 'x-scope-orgid': 't1' }, 'a')).statusCode).toBe(200);
    await app.close();
  });
});

describe('ingest rate limits', () => {
  it('profiles/s: past the burst, 429 rate_limited with Retry-After, limit and actual', async () => {
    // A refill of 1 profile per 1000 s: the second request cannot have been refilled.
    const app = await appWith('none', { ingestProfilesPerSecond: 0.001, ingestBurstProfiles: 1 });
    expect((await ingest(app, { 'x-scope-orgid': 'busy' })).statusCode).toBe(200);
    const limited = await ingest(app, { 'x-scope-orgid': 'busy' });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({
      code: 'resource_exhausted',
      error: 'rate_limited',
      unit: 'profiles',
      limit: 0.001,
      burst: 1,
      actual: 1,
    });
    expect(limited.json().retry_after_s).toBe(Number(limited.headers['retry-after']));
    // Another tenant has its own bucket.
    expect((await ingest(app, { 'x-scope-orgid': 'quiet' })).statusCode).toBe(200);
    await app.close();
  });

  it('bytes/s: charged from Content-Length before the body is decoded', async () => {
    const app = await appWith('none', { ingestBytesPerSecond: 0.001, ingestBurstBytes: 100 });
    const body = 'main;work 1\n'.repeat(20); // 240 bytes: passes on a full bucket, then owes
    expect((await ingest(app, { 'x-scope-orgid': 'big' }, 'svc', body)).statusCode).toBe(200);
    const limited = await ingest(app, { 'x-scope-orgid': 'big' }, 'svc', 'not even folded text');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json()).toMatchObject({ error: 'rate_limited', unit: 'bytes', burst: 100 });
    await app.close();
  });

  it('the defaults do not throttle a busy service (hundreds of profiles/s, tens of MB/s)', () => {
    const d = resolveLimits();
    expect(d.ingestProfilesPerSecond).toBeGreaterThanOrEqual(1000);
    expect(d.ingestBytesPerSecond).toBeGreaterThanOrEqual(50 * 1024 * 1024);
  });
});

describe('browser protections', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith('none');
  });
  afterAll(async () => app.close());

  it('a write from a page of another origin is refused; same origin and clients without Origin pass', async () => {
    const host = '127.0.0.1:4040';
    const evil = await ingest(app, { host, origin: 'http://evil.example' });
    expect(evil.statusCode).toBe(403);
    expect(evil.json()).toMatchObject({ code: 'permission_denied', error: 'origin_forbidden' });
    const nullOrigin = await ingest(app, { host, origin: 'null' });
    expect(nullOrigin.statusCode).toBe(403);
    const crossSite = await ingest(app, { host, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.json()).toMatchObject({ error: 'origin_forbidden' });
    const otherPort = await ingest(app, {
      host,
      origin: 'http://127.0.0.1:3000',
      'sec-fetch-site': 'same-site',
    });
    expect(otherPort.statusCode).toBe(403);
    const query = READS[4]!.req;
    const evilQuery = await app.inject({
      ...query,
      headers: { ...query.headers, host, origin: 'http://evil.example' },
    });
    expect(evilQuery.statusCode).toBe(403);
    expect(
      (await ingest(app, { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).statusCode,
    ).toBe(200);
    expect((await ingest(app, { host })).statusCode).toBe(200);
    // Behind a proxy that rewrites Host, the public host arrives as X-Forwarded-Host.
    expect(
      (
        await ingest(app, {
          host: 'backend:4040',
          'x-forwarded-host': 'hotpath.example',
          origin: 'https://hotpath.example',
        })
      ).statusCode,
    ).toBe(200);
  });

  it('security headers on the UI and the API', async () => {
    for (const req of [get('/'), get(`/api/apps?${q}`), await ingestReq()]) {
      const res = await app.inject(req);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });
});

async function ingestReq() {
  return {
    method: 'POST' as const,
    url: `/ingest?name=svc.cpu&from=${NOW / 1000}`,
    headers: { 'content-type': 'text/plain' },
    payload: 'main;work 1',
  };
}
