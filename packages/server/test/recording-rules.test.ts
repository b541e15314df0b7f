// Recording rules (settings.v1.RecordingRulesService): the Drilldown app's JSON and binary requests,
// coded rejections, counters kept as profiles arrive and equal to what a flame graph query sums over
// the same data, exposition on /metrics per tenant, the series cap, and rules surviving a restart.
import { fromBinary } from '@bufbuild/protobuf';
import { decodeFlamebearer, topTable } from '@hotpath/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../src/app.ts';
import { ProtoWriter } from '../src/connect/wire.ts';
import { UpsertRecordingRuleResponseSchema } from '../src/gen/settings/v1/recording_rules_pb.ts';
import { openDuckDBStore } from '../src/store/duckdb.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import { syncRecordingRules } from '../src/rules/service.ts';
import type { FastifyInstance } from 'fastify';
import { PUSH_PATH } from '../src/ingest/routes.ts';
import { pprofOf, pushRequest } from './support/pprof.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const RULES = '/settings.v1.RecordingRulesService';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function call(method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await t!.app.inject({
    method: 'POST',
    url: `${RULES}/${method}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as any };
}

/** The body the Drilldown app sends to create a rule (protobuf-es objects put through JSON.stringify). */
function appCreate(metricName: string, functionName?: string, groupBy: string[] = []) {
  return {
    metricName,
    matchers: ['{ service_name="ride" }', `{ __profile_type__="${CPU}"}`],
    groupBy,
    ...(functionName === undefined
      ? {}
      : {
          stacktraceFilter: {
            $typeName: 'settings.v1.StacktraceFilter',
            functionName: {
              $typeName: 'settings.v1.StacktraceFilterFunctionName',
              functionName,
              metricType: 0,
            },
          },
        }),
  };
}

async function ingest(folded: string, labels = '{}', tenant?: string) {
  const res = await t!.app.inject({
    method: 'POST',
    url: `/ingest?name=${encodeURIComponent(`ride${labels}`)}&format=pprof`,
    headers: tenant === undefined ? {} : { 'x-scope-orgid': tenant },
    payload: pprofOf(folded, { timeMs: NOW_MS }),
  });
  expect(res.statusCode).toBe(200);
}

/** The rule series of /metrics as `name{labels}` → value. */
async function ruleSeries(tenant?: string): Promise<Record<string, number>> {
  const res = await t!.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: tenant === undefined ? {} : { 'x-scope-orgid': tenant },
  });
  expect(res.statusCode).toBe(200);
  const out: Record<string, number> = {};
  for (const line of res.body.split('\n')) {
    const m = /^(rides_\S+|find_\S+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The total of `fn` (each stack once) in the flame graph of `selector` over the test's hour. */
async function flameTotal(selector: string, fn: string): Promise<number> {
  const q = encodeURIComponent(`${CPU}${selector}`);
  const res = await t!.app.inject({
    method: 'GET',
    url: `/pyroscope/render?query=${q}&from=${NOW_MS - 3_600_000}&until=${NOW_MS + 60_000}&format=json`,
  });
  expect(res.statusCode).toBe(200);
  const profile = decodeFlamebearer(JSON.parse(res.body).flamebearer);
  return topTable(profile).find((r) => r.name === fn)?.total ?? 0;
}

// Each `a;b;c value` line is one stack, root first; values as stored.
const EU_NORTH = `
  main;order_car;find_nearest_vehicle;find_nearest_vehicle;check_driver 30
  main;order_car;find_nearest_vehicle 20
  main;order_bike;find_nearest_vehicle 5 {vehicle=bike}
  main;idle 50
`;
const US_EAST = `
  main;order_car;find_nearest_vehicle 7
  main;idle 11
`;

describe('settings.v1.RecordingRulesService', () => {
  it("takes the Drilldown app's JSON: create, list, delete", async () => {
    t = await openTestServer();
    const created = await call('UpsertRecordingRule', appCreate('rides_fnv_cpu', 'find_nearest_vehicle'));
    expect(created.status).toBe(200);
    const rule = created.body.rule;
    expect(rule.id).toMatch(/^[a-zA-Z]{10}$/);
    expect(rule).toEqual({
      id: rule.id,
      metricName: 'rides_fnv_cpu',
      profileType: CPU,
      matchers: ['{ service_name="ride" }', `{ __profile_type__="${CPU}"}`],
      generation: '1',
      stacktraceFilter: { functionName: { functionName: 'find_nearest_vehicle' } },
    });
    expect((await call('ListRecordingRules', {})).body).toEqual({ rules: [rule] });
    expect((await call('GetRecordingRule', { id: rule.id })).body).toEqual({ rule });
    expect(await call('DeleteRecordingRule', { id: rule.id })).toEqual({ status: 200, body: {} });
    // No rules: protojson leaves the empty list out (the app reads a missing `rules` as none).
    expect((await call('ListRecordingRules', {})).body).toEqual({});
  });

  it('takes binary requests (application/proto) with the field numbers of Pyroscope', async () => {
    t = await openTestServer();
    const body = new ProtoWriter()
      .string(2, 'rides_cpu')
      .string(3, `{__profile_type__="${CPU}", service_name="ride"}`)
      .string(4, 'region')
      .message(5, (l) => l.string(1, 'team').string(2, 'rides'))
      .message(7, (f) => f.message(1, (n) => n.string(1, 'order_car').int64(2, 0)))
      .finish();
    const res = await t.app.inject({
      method: 'POST',
      url: `${RULES}/UpsertRecordingRule`,
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(body),
    });
    expect(res.statusCode).toBe(200);
    const { rule } = fromBinary(UpsertRecordingRuleResponseSchema, res.rawPayload);
    expect(rule?.metricName).toBe('rides_cpu');
    expect(rule?.profileType).toBe(CPU);
    expect(rule?.groupBy).toEqual(['region']);
    expect(rule?.externalLabels.map((l) => [l.name, l.value])).toEqual([['team', 'rides']]);
    expect(rule?.stacktraceFilter?.functionName?.functionName).toBe('order_car');
    expect(rule?.generation).toBe(1n);
  });

  it('refuses bad rules with coded errors', async () => {
    t = await openTestServer({ limits: { maxRecordingRulesPerTenant: 1 } });
    const type = `{__profile_type__="${CPU}"}`;
    const cases: [unknown, number, string][] = [
      [{ metricName: '', matchers: [type] }, 400, 'invalid_metric_name'],
      [{ metricName: '1cpu', matchers: [type] }, 400, 'invalid_metric_name'],
      [{ metricName: 'hotpath_cpu', matchers: [type] }, 400, 'invalid_metric_name'],
      [{ metricName: 'cpu', matchers: ['{service_name="ride"}'] }, 400, 'rule_profile_type'],
      [{ metricName: 'cpu', matchers: [type, type] }, 400, 'rule_profile_type'],
      [{ metricName: 'cpu', matchers: [`{__profile_type__=~".*"}`] }, 400, 'rule_profile_type'],
      [{ metricName: 'cpu', matchers: [`{__profile_type__="cpu"}`] }, 400, 'rule_profile_type'],
      [{ metricName: 'cpu', matchers: [type, '{service_name=}'] }, 400, 'invalid_selector'],
      [{ metricName: 'cpu', matchers: [type, '{a=~"("}'] }, 400, 'invalid_selector'],
      [{ metricName: 'cpu', matchers: [type], groupBy: ['__name__'] }, 400, 'invalid_rule_label'],
      [{ metricName: 'cpu', matchers: [type], groupBy: ['a-b'] }, 400, 'invalid_rule_label'],
      [{ metricName: 'cpu', matchers: [type], id: 'abc1' }, 400, 'invalid_rule_id'],
      [{ metricName: 'cpu', matchers: [type], generation: '-1' }, 400, 'invalid_rule_generation'],
      [
        { metricName: 'cpu', matchers: [type], stacktraceFilter: { functionName: { functionName: '' } } },
        400,
        'invalid_rule_function',
      ],
      [{ metricName: 'cpu', matchers: Array(33).fill(type) }, 400, 'rule_too_large'],
      [{ metricName: 'cpu', matchers: [type], groupBy: Array(17).fill('a') }, 400, 'rule_too_large'],
      [{ metricName: 7 }, 400, 'malformed_json'],
      ['{"metricName":', 400, 'malformed_json'],
    ];
    for (const [body, status, code] of cases) {
      const res = await call('UpsertRecordingRule', body);
      expect([JSON.stringify(body), res.status, res.body.error]).toEqual([
        JSON.stringify(body),
        status,
        code,
      ]);
    }
    const first = await call('UpsertRecordingRule', { id: 'first', metricName: 'cpu', matchers: [type] });
    expect(first.status).toBe(200);
    expect((await call('UpsertRecordingRule', { metricName: 'more', matchers: [type] })).body).toMatchObject({
      error: 'too_many_rules',
      limit: 1,
    });
    // A replacement names the generation it read; a stale one lost a race.
    const stale = await call('UpsertRecordingRule', { id: 'first', metricName: 'x', matchers: [type] });
    expect([stale.status, stale.body.error, stale.body.code]).toEqual([
      409,
      'rule_conflict',
      'already_exists',
    ]);
    const next = await call('UpsertRecordingRule', {
      id: 'first',
      metricName: 'x',
      matchers: [type],
      generation: '1',
    });
    expect(next.body.rule).toMatchObject({ metricName: 'x', generation: '2' });
    expect((await call('DeleteRecordingRule', { id: 'nope' })).body.error).toBe('rule_not_found');
    expect((await call('GetRecordingRule', { id: '' })).body.error).toBe('missing_rule_id');
  });
});

describe('recording rules as profiles arrive', () => {
  it("a rule's counter equals the flame graph's total of the function (recursion once per stack)", async () => {
    t = await openTestServer();
    const byRegion = appCreate('rides_fnv_cpu', 'find_nearest_vehicle', ['region']);
    const all = appCreate('rides_cpu', undefined, ['region', 'vehicle']);
    const fnv = (await call('UpsertRecordingRule', byRegion)).body.rule.id;
    const cpu = (await call('UpsertRecordingRule', all)).body.rule.id;
    await ingest(EU_NORTH, '{region=eu-north}');
    await ingest(EU_NORTH, '{region=eu-north}');
    await ingest(US_EAST, '{region=us-east}');
    // Another service, another tenant: not selected by the rules / not this tenant's.
    await t.app.inject({
      method: 'POST',
      url: '/ingest?name=other{region=eu-north}&format=pprof',
      payload: pprofOf('main;find_nearest_vehicle 1000', { timeMs: NOW_MS }),
    });
    await ingest('main;find_nearest_vehicle 1000', '{region=eu-north}', 'team-b');

    const series = await ruleSeries();
    const eu = await flameTotal('{service_name="ride",region="eu-north"}', 'find_nearest_vehicle');
    const us = await flameTotal('{service_name="ride",region="us-east"}', 'find_nearest_vehicle');
    // 2 × (30 + 20 + 5) samples of 10 ms in eu-north, 7 in us-east.
    expect([eu, us]).toEqual([110, 7]);
    expect(series).toEqual({
      [`rides_fnv_cpu{profiles_rule_id="${fnv}",region="eu-north"}`]: eu,
      [`rides_fnv_cpu{profiles_rule_id="${fnv}",region="us-east"}`]: us,
      [`rides_cpu{profiles_rule_id="${cpu}",region="eu-north"}`]: 2 * 100,
      [`rides_cpu{profiles_rule_id="${cpu}",region="eu-north",vehicle="bike"}`]: 2 * 5,
      [`rides_cpu{profiles_rule_id="${cpu}",region="us-east"}`]: 18,
    });
    // Without a function filter the rule is the flame graph's root total, i.e. SelectSeries' sum.
    const points = await t.app.inject({
      method: 'POST',
      url: '/querier.v1.QuerierService/SelectSeries',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        profileTypeID: CPU,
        labelSelector: '{service_name="ride"}',
        start: String(NOW_MS - 3_600_000),
        end: String(NOW_MS + 60_000),
        step: 3600,
        groupBy: ['region'],
      }),
    });
    const sums = Object.fromEntries(
      JSON.parse(points.body).series.map((s: any) => [
        s.labels.find((l: any) => l.name === 'region').value,
        s.points.reduce((a: number, p: any) => a + p.value, 0),
      ]),
    );
    expect(sums).toEqual({ 'eu-north': 2 * 105, 'us-east': 18 });
    // The other tenant's rules and counters are its own (it has none).
    expect(await ruleSeries('team-b')).toEqual({});
  });

  it('samples of a span (kept per sample, apart from the others) count too', async () => {
    t = await openTestServer();
    const id = (await call('UpsertRecordingRule', appCreate('rides_fnv_cpu', 'find_nearest_vehicle'))).body
      .rule.id;
    await ingest(`
      main;find_nearest_vehicle 5 {span_id=00000000000000a1}
      main;find_nearest_vehicle;find_nearest_vehicle 7 {span_id=00000000000000b2}
      main;find_nearest_vehicle 11
      main;idle 13 {span_id=00000000000000a1}
    `);
    expect(await flameTotal('{service_name="ride"}', 'find_nearest_vehicle')).toBe(23);
    expect(await ruleSeries()).toEqual({ [`rides_fnv_cpu{profiles_rule_id="${id}"}`]: 23 });
  });

  it('a rejected request adds nothing, not even its valid series', async () => {
    t = await openTestServer();
    await call('UpsertRecordingRule', appCreate('rides_cpu'));
    const labels = { __name__: 'process_cpu', service_name: 'ride' };
    const res = await t.app.inject({
      method: 'POST',
      url: PUSH_PATH,
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(
        pushRequest([
          { labels, profiles: [pprofOf('main 5', { timeMs: NOW_MS })] },
          // An hour and a minute old: profile_too_old rejects the whole request.
          {
            labels: { ...labels, region: 'x' },
            profiles: [pprofOf('main 5', { timeMs: NOW_MS - 3_660_000 })],
          },
        ]),
      ),
    });
    expect([res.statusCode, JSON.parse(res.body).error]).toEqual([400, 'profile_too_old']);
    expect(await ruleSeries()).toEqual({});
  });

  it('caps the series of a rule; the dropped increments are counted', async () => {
    t = await openTestServer({ limits: { maxRecordingRuleSeries: 1 } });
    const id = (await call('UpsertRecordingRule', appCreate('rides_cpu', undefined, ['region']))).body.rule
      .id;
    await ingest(US_EAST, '{region=us-east}');
    await ingest(US_EAST, '{region=eu-north}');
    expect(await ruleSeries()).toEqual({ [`rides_cpu{profiles_rule_id="${id}",region="us-east"}`]: 18 });
    expect(t.metrics.ruleDrops.get({ tenant: 'anonymous', rule_id: id, code: 'rule_series_limit' })).toBe(1);
  });

  it('rules survive a restart (DuckDB); their counters start again from zero', async () => {
    t = await openTestServer();
    const id = (await call('UpsertRecordingRule', appCreate('rides_cpu'))).body.rule.id;
    await ingest(US_EAST);
    expect(await ruleSeries()).toEqual({ [`rides_cpu{profiles_rule_id="${id}"}`]: 18 });
    // Restart: close the app and its store, open the same data directory again.
    const dataDir = t.dataDir;
    await t.app.close();
    await t.store.close();
    t = await openTestServer({ store: await openDuckDBStore({ dataDir }) });
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    expect((await call('ListRecordingRules', {})).body.rules.map((r: any) => [r.id, r.metricName])).toEqual([
      [id, 'rides_cpu'],
    ]);
    expect(await ruleSeries()).toEqual({});
    await ingest(US_EAST);
    expect(await ruleSeries()).toEqual({ [`rides_cpu{profiles_rule_id="${id}"}`]: 18 });
  });
});

describe('recording rules under --auth keys', () => {
  it("List needs read, Upsert and Delete admin; /metrics shows the key's tenant's rules", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-rules-'));
    const store = await openDuckDBStore({ dataDir });
    const app = await buildServer({ store, now: () => NOW_MS, auth: 'keys', groupCommit: { intervalMs: 2 } });
    onTestFinished(async () => {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const key = async (tenant: string, scope: 'read' | 'write' | 'admin') => ({
      authorization: `Bearer ${(await app.hotpathAuth.keys.create(tenant, scope, scope, NOW_MS)).key}`,
    });
    const [acmeRead, acmeWrite, acmeAdmin, betaAdmin] = [
      await key('acme', 'read'),
      await key('acme', 'write'),
      await key('acme', 'admin'),
      await key('beta', 'admin'),
    ];
    const send = async (method: string, body: unknown, headers: Record<string, string>) => {
      const res = await app.inject({
        method: 'POST',
        url: `${RULES}/${method}`,
        headers: { 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body),
      });
      return [res.statusCode, JSON.parse(res.body).error ?? 'ok'];
    };
    const rule = appCreate('rides_cpu');
    expect(await send('UpsertRecordingRule', rule, acmeRead)).toEqual([403, 'insufficient_scope']);
    expect(await send('UpsertRecordingRule', rule, acmeWrite)).toEqual([403, 'insufficient_scope']);
    expect(await send('UpsertRecordingRule', rule, {})).toEqual([401, 'missing_api_key']);
    expect(await send('UpsertRecordingRule', rule, acmeAdmin)).toEqual([200, 'ok']);
    expect(await send('ListRecordingRules', {}, acmeRead)).toEqual([200, 'ok']);
    expect(await send('DeleteRecordingRule', { id: 'abc' }, acmeRead)).toEqual([403, 'insufficient_scope']);
    const ingested = await app.inject({
      method: 'POST',
      url: '/ingest?name=ride&format=pprof',
      headers: acmeWrite,
      payload: pprofOf('main 4', { timeMs: NOW_MS }),
    });
    expect(ingested.statusCode).toBe(200);
    const metrics = async (headers: Record<string, string>) =>
      (await app.inject({ method: 'GET', url: '/metrics', headers })).body
        .split('\n')
        .filter((l) => l.startsWith('rides_cpu'));
    expect(await metrics(acmeAdmin)).toEqual([
      expect.stringMatching(/^rides_cpu\{profiles_rule_id="[a-zA-Z]+"\} 4$/),
    ]);
    expect(await metrics(betaAdmin)).toEqual([]);
  });
});

describe('recording rules over replicas sharing a store', () => {
  it('a rule made through one server applies on the other after its reload; unchanged rules keep their counts', async () => {
    const store = await openMemoryStore();
    const open = () => buildServer({ store, now: () => NOW_MS, groupCommit: { intervalMs: 2 } });
    const [a, b] = [await open(), await open()];
    onTestFinished(async () => {
      await a.close();
      await b.close();
    });
    const upsert = async (app: FastifyInstance, body: unknown) => {
      const res = await app.inject({
        method: 'POST',
        url: `${RULES}/UpsertRecordingRule`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      return JSON.parse(res.body);
    };
    const push = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: '/ingest?name=ride&format=pprof',
        payload: pprofOf('main 3', { timeMs: NOW_MS }),
      });
    const series = async (app: FastifyInstance) =>
      (await app.inject({ method: 'GET', url: '/metrics' })).body
        .split('\n')
        .filter((l) => l.startsWith('rides'));
    const { rule } = await upsert(a, appCreate('rides_cpu'));
    // B counts with it only once it has reloaded; a reload keeps the counts of an unchanged rule.
    await push(b);
    expect(await series(b)).toEqual([]);
    await syncRecordingRules(store, b.hotpathWritePath.rules);
    await push(b);
    await syncRecordingRules(store, b.hotpathWritePath.rules);
    await push(b);
    expect(await series(b)).toEqual([`rides_cpu{profiles_rule_id="${rule.id}"} 6`]);
    // Generations are checked against the store: B cannot overwrite A's newer version.
    expect(
      (await upsert(a, { ...appCreate('rides_cpu2'), id: rule.id, generation: '1' })).rule.generation,
    ).toBe('2');
    expect((await upsert(b, { ...appCreate('rides_cpu3'), id: rule.id, generation: '1' })).error).toBe(
      'rule_conflict',
    );
    await syncRecordingRules(store, b.hotpathWritePath.rules);
    expect(await series(b)).toEqual([]);
    await push(b);
    expect(await series(b)).toEqual([`rides_cpu2{profiles_rule_id="${rule.id}"} 3`]);
  });
});
