// The Profiles Drilldown services beside the querier: settings.v1.SettingsService, the ad hoc profiles
// of adhocprofiles.v1.AdHocProfileService and capabilities.v1.FeatureFlagsService, with the app's JSON
// bodies and hand-encoded binary bodies (field numbers of Pyroscope's .proto files), coded rejections,
// the auth scope of reads and writes, per-tenant limits and retention, and a restart on DuckDB.
import { fromBinary } from '@bufbuild/protobuf';
import { decodeFlamebearer, exportFolded } from '@hotpath/core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.ts';
import { ProtoWriter } from '../src/connect/wire.ts';
import { AdHocProfilesGetResponseSchema } from '../src/gen/adhocprofiles/v1/adhocprofiles_pb.ts';
import { GetFeatureFlagsResponseSchema } from '../src/gen/capabilities/v1/feature_flags_pb.ts';
import { SetSettingsResponseSchema } from '../src/gen/settings/v1/setting_pb.ts';
import { resolveLimits, type Limits } from '../src/limits.ts';
import { openDuckDBStore } from '../src/store/duckdb.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import type { ApiKeyScope } from '../src/store/types.ts';
import { pprofOf } from './support/pprof.ts';
import { CPU, batchOf } from './query-helpers.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';

const SETTINGS = '/settings.v1.SettingsService';
const ADHOC = '/adhocprofiles.v1.AdHocProfileService';
const FLAGS = '/capabilities.v1.FeatureFlagsService/GetFeatureFlags';

let t: TestServer | undefined;
let clock = NOW_MS;
afterEach(async () => {
  await t?.close();
  t = undefined;
  clock = NOW_MS;
});

async function open(limits: Partial<Limits> = {}, store?: TestServer['store']): Promise<TestServer> {
  t = await openTestServer({ limits, now: () => clock, ...(store ? { store } : {}) });
  return t;
}

async function json(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await t!.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as any };
}

async function binary(path: string, bytes: Uint8Array) {
  const res = await t!.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/proto' },
    payload: Buffer.from(bytes),
  });
  return { status: res.statusCode, type: res.headers['content-type'], bytes: res.rawPayload };
}

/** The folded picture of a flamebearer JSON text: `a;b value` lines, sorted. */
function foldedOf(flamebearerProfile: string): string[] {
  const fb = JSON.parse(flamebearerProfile).flamebearer;
  return exportFolded(decodeFlamebearer(fb)).trim().split('\n').sort();
}

describe('settings.v1.SettingsService', () => {
  it('Set and Get with the app JSON: per tenant, modifiedAt as an int64 string', async () => {
    await open();
    const value = JSON.stringify({ maxNodes: 16384, enableFlameGraphDotComExport: true });
    const set = await json(`${SETTINGS}/Set`, { setting: { name: 'pluginSettings', value } });
    expect(set).toEqual({
      status: 200,
      body: { setting: { name: 'pluginSettings', value, modifiedAt: String(NOW_MS) } },
    });
    expect((await json(`${SETTINGS}/Get`, {})).body).toEqual({
      settings: [{ name: 'pluginSettings', value, modifiedAt: String(NOW_MS) }],
    });
    expect((await json(`${SETTINGS}/Get`, {}, { 'x-scope-orgid': 'other' })).body).toEqual({});
  });

  it('Set with binary proto: Setting{name=1, value=2, modifiedAt=3} in SetSettingsRequest.setting=1', async () => {
    await open();
    const body = new ProtoWriter()
      .message(1, (w) =>
        w
          .string(1, 'theme')
          .string(2, 'dark')
          .int64(3, NOW_MS - 5),
      )
      .finish();
    const res = await binary(`${SETTINGS}/Set`, body);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/proto');
    const msg = fromBinary(SetSettingsResponseSchema, res.bytes);
    expect([msg.setting?.name, msg.setting?.value, msg.setting?.modifiedAt]).toEqual([
      'theme',
      'dark',
      BigInt(NOW_MS - 5),
    ]);
  });

  it('refuses a stale write (409), a missing setting or name, an oversized one; Delete removes', async () => {
    await open({ maxSettingBytes: 20, maxSettingsPerTenant: 2 });
    expect(
      (await json(`${SETTINGS}/Set`, { setting: { name: 'a', value: '1', modifiedAt: '2000' } })).status,
    ).toBe(200);
    const stale = await json(`${SETTINGS}/Set`, { setting: { name: 'a', value: '0', modifiedAt: '1000' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      code: 'already_exists',
      error: 'setting_stale',
      stored: 2000,
      actual: 1000,
    });
    expect((await json(`${SETTINGS}/Set`, {})).body).toMatchObject({
      code: 'invalid_argument',
      error: 'setting_missing',
    });
    expect((await json(`${SETTINGS}/Set`, { setting: { value: 'x' } })).body.error).toBe(
      'setting_name_missing',
    );
    const big = await json(`${SETTINGS}/Set`, { setting: { name: 'b', value: 'x'.repeat(20) } });
    expect(big.body).toMatchObject({ error: 'setting_too_large', limit: 20, actual: 21 });
    expect((await json(`${SETTINGS}/Set`, { setting: { name: 'b', value: '2' } })).status).toBe(200);
    const third = await json(`${SETTINGS}/Set`, { setting: { name: 'c', value: '3' } });
    expect([third.status, third.body.error, third.body.limit]).toEqual([429, 'too_many_settings', 2]);
    expect((await json(`${SETTINGS}/Delete`, { name: 'a' })).status).toBe(200);
    expect((await json(`${SETTINGS}/Get`, {})).body.settings.map((s: any) => s.name)).toEqual(['b']);
    const bad = await binary(`${SETTINGS}/Set`, Uint8Array.from([0x0a, 0x05, 0x01]));
    expect(bad.status).toBe(400);
  });
});

describe('capabilities.v1.FeatureFlagsService/GetFeatureFlags', () => {
  it('lists every flag, disabled ones too, sorted by name, in JSON and binary', async () => {
    await open();
    const res = await json(FLAGS, {});
    expect(res.status).toBe(200);
    const names = res.body.featureFlags.map((f: any) => f.name);
    expect(names).toEqual([...names].sort());
    expect(res.body.featureFlags).toContainEqual(
      expect.objectContaining({ name: 'pyroscopeRuler', enabled: true }),
    );
    // The app's function projections (FUNCTION_TREE) are not served: the flag must say so.
    expect(res.body.featureFlags).toContainEqual(expect.objectContaining({ name: 'functionProjections' }));
    expect(res.body.featureFlags.find((f: any) => f.name === 'functionProjections').enabled).toBeUndefined();
    // utf8LabelNames is on: a dotted label name is kept at ingest and selected when quoted.
    expect(res.body.featureFlags).toContainEqual(
      expect.objectContaining({ name: 'utf8LabelNames', enabled: true }),
    );
    await t!.store.append(
      batchOf([{ labels: { 'service.name': 'ride' }, timeMs: NOW_MS, folded: ['main;work 7'] }]),
    );
    const q = { profileTypeID: CPU, start: NOW_MS - 1000, end: NOW_MS + 1000 };
    const quoted = await json('/querier.v1.QuerierService/SelectMergeStacktraces', {
      ...q,
      labelSelector: '{"service.name"="ride"}',
    });
    expect(quoted.body.flamegraph.total).toBe('7');
    const bin = await binary(FLAGS, new Uint8Array());
    expect(fromBinary(GetFeatureFlagsResponseSchema, bin.bytes).featureFlags.map((f) => f.name)).toEqual(
      names,
    );
  });
});

describe('adhocprofiles.v1.AdHocProfileService', () => {
  const cpuFile = () => pprofOf('main;work 30\nmain;idle 10', { gzip: true }).toString('base64');

  it('Upload (app JSON) → id, flame graph; Get and List find it; the flame graph is the file', async () => {
    await open();
    const up = await json(`${ADHOC}/Upload`, { name: 'cpu.pb.gz', profile: cpuFile() });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      name: 'cpu.pb.gz',
      uploadedAt: String(NOW_MS),
      profileType: 'cpu',
      profileTypes: ['cpu'],
    });
    expect(up.body.id).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    const fb = JSON.parse(up.body.flamebearerProfile);
    expect(fb.metadata).toEqual({
      format: 'single',
      spyName: '',
      sampleRate: 1e9,
      units: 'samples',
      name: 'cpu',
    });
    expect(foldedOf(up.body.flamebearerProfile)).toEqual(['main;idle 10', 'main;work 30']);

    const got = await json(`${ADHOC}/Get`, { id: up.body.id });
    expect(got.body).toEqual(up.body);
    expect((await json(`${ADHOC}/List`, {})).body).toEqual({
      profiles: [{ id: up.body.id, name: 'cpu.pb.gz', uploadedAt: String(NOW_MS) }],
    });
    // Another tenant sees none of it.
    expect((await json(`${ADHOC}/List`, {}, { 'x-scope-orgid': 'other' })).body).toEqual({});
    expect((await json(`${ADHOC}/Get`, { id: up.body.id }, { 'x-scope-orgid': 'other' })).status).toBe(404);
  });

  it('Upload and Get in binary: name=1, profile=2 (base64 text); Get id=1, profile_type=2', async () => {
    await open();
    const up = await binary(
      `${ADHOC}/Upload`,
      new ProtoWriter()
        .string(1, 'folded.txt')
        .string(2, Buffer.from('a;b 3\na;c 1\n').toString('base64'))
        .finish(),
    );
    expect(up.status).toBe(200);
    const msg = fromBinary(AdHocProfilesGetResponseSchema, up.bytes);
    expect(foldedOf(msg.flamebearerProfile)).toEqual(['a;b 3', 'a;c 1']);
    const get = await binary(
      `${ADHOC}/Get`,
      new ProtoWriter().string(1, msg.id).string(2, msg.profileType).finish(),
    );
    expect(fromBinary(AdHocProfilesGetResponseSchema, get.bytes).flamebearerProfile).toBe(
      msg.flamebearerProfile,
    );
  });

  it('codes bad uploads and ids: too large (limit, actual), not base64, unreadable, empty, unknown type', async () => {
    await open({ maxAdhocProfileBytes: 64 });
    const big = await json(`${ADHOC}/Upload`, {
      name: 'x',
      profile: Buffer.alloc(65, 'a').toString('base64'),
    });
    expect([big.status, big.body]).toEqual([
      400,
      expect.objectContaining({
        code: 'invalid_argument',
        error: 'adhoc_profile_too_large',
        limit: 64,
        actual: 65,
      }),
    ]);
    expect((await json(`${ADHOC}/Upload`, { name: 'x', profile: 'not base64!' })).body.error).toBe(
      'adhoc_profile_not_base64',
    );
    expect((await json(`${ADHOC}/Upload`, { name: 'x' })).body.error).toBe('adhoc_profile_empty');
    const junk = await json(`${ADHOC}/Upload`, {
      name: 'junk.bin',
      profile: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
    expect([junk.status, junk.body.error]).toEqual([400, 'adhoc_profile_unreadable']);
    expect((await json(`${ADHOC}/Get`, { id: '../etc' })).body.error).toBe('adhoc_id_invalid');
    const missing = await json(`${ADHOC}/Get`, { id: 'nope' });
    expect([missing.status, missing.body.code, missing.body.error]).toEqual([
      404,
      'not_found',
      'adhoc_profile_not_found',
    ]);
    const ok = await json(`${ADHOC}/Upload`, { name: 'f', profile: Buffer.from('a 1').toString('base64') });
    const wrongType = await json(`${ADHOC}/Get`, { id: ok.body.id, profileType: 'alloc_space' });
    expect(wrongType.body.error).toBe('adhoc_profile_type_unknown');
  });

  it('keeps at most N per tenant (the oldest go) and none older than the retention', async () => {
    await open({ maxAdhocProfilesPerTenant: 2, adhocRetentionMs: 10_000 });
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      ids.push(
        (await json(`${ADHOC}/Upload`, { name, profile: Buffer.from('a 1').toString('base64') })).body.id,
      );
      clock += 1000;
    }
    expect((await json(`${ADHOC}/List`, {})).body.profiles.map((p: any) => p.name)).toEqual(['three', 'two']);
    expect((await json(`${ADHOC}/Get`, { id: ids[0] })).status).toBe(404);
    expect(await t!.store.getDocument('anonymous', 'adhoc_profile_data', ids[0]!)).toBeUndefined();
    clock += 8_500; // now = start + 11.5 s: 'two' (at 1 s) is older than 10 s, 'three' (at 2 s) is not
    expect((await json(`${ADHOC}/List`, {})).body.profiles.map((p: any) => p.name)).toEqual(['three']);
    expect((await json(`${ADHOC}/Get`, { id: ids[1] })).status).toBe(404);
  });

  it('Diff of two uploads: a double flame graph of the common type', async () => {
    await open();
    const up = async (text: string) =>
      (await json(`${ADHOC}/Upload`, { name: 'f', profile: Buffer.from(text).toString('base64') })).body.id;
    const res = await json(`${ADHOC}/Diff`, {
      leftId: await up('a;b 1\na;c 2'),
      rightId: await up('a;b 4\na;c 8'),
    });
    expect(res.status).toBe(200);
    const fb = JSON.parse(res.body.flamebearerProfile);
    expect([fb.metadata.format, fb.leftTicks, fb.rightTicks, fb.flamebearer.numTicks]).toEqual([
      'double',
      3,
      12,
      15,
    ]);
  });
});

describe('auth: reads need read, Upload/Set/Delete need write', () => {
  it('a read key reads but cannot write; a write key writes', async () => {
    const store = await openMemoryStore();
    const app = await buildServer({
      store,
      now: () => NOW_MS,
      logger: false,
      auth: 'keys',
      limits: resolveLimits(),
      uiDir: '/nonexistent',
    });
    const key = async (scope: ApiKeyScope) =>
      (await app.hotpathAuth.keys.create('acme', scope, scope, NOW_MS)).key;
    const call = (url: string, k: string, body: unknown) =>
      app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` },
        payload: JSON.stringify(body),
      });
    const read = await key('read');
    const write = await key('write');
    const set = { setting: { name: 'n', value: 'v' } };
    expect((await call(`${SETTINGS}/Set`, read, set)).statusCode).toBe(403);
    expect((await call(`${SETTINGS}/Set`, write, set)).statusCode).toBe(200);
    expect((await call(`${SETTINGS}/Get`, read, {})).statusCode).toBe(200);
    expect((await call(`${ADHOC}/Upload`, read, { name: 'f', profile: 'YSAx' })).statusCode).toBe(403);
    expect((await call(`${ADHOC}/Upload`, write, { name: 'f', profile: 'YSAx' })).statusCode).toBe(200);
    expect((await call(FLAGS, read, {})).statusCode).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: FLAGS,
          headers: { 'content-type': 'application/json' },
          payload: '{}',
        })
      ).statusCode,
    ).toBe(401);
    await app.close();
  });
});

describe('restart on DuckDB', () => {
  it('settings and ad hoc profiles survive closing and re-opening the data directory', async () => {
    const first = await open();
    await json(`${SETTINGS}/Set`, { setting: { name: 'pluginSettings', value: '{"a":1}' } });
    const up = await json(`${ADHOC}/Upload`, { name: 'cpu.pb.gz', profile: cpuFileOf() });
    await first.app.close();
    await first.store.close();
    const store = await openDuckDBStore({ dataDir: first.dataDir });
    const second = await open({}, store);
    expect((await json(`${SETTINGS}/Get`, {})).body.settings).toEqual([
      { name: 'pluginSettings', value: '{"a":1}', modifiedAt: String(NOW_MS) },
    ]);
    expect((await json(`${ADHOC}/Get`, { id: up.body.id })).body).toEqual(up.body);
    expect(second.dataDir).not.toBe(first.dataDir); // the harness's own dir; the data came from the first
    const { rmSync } = await import('node:fs');
    rmSync(first.dataDir, { recursive: true, force: true });
  });
});

function cpuFileOf(): string {
  return pprofOf('main;work 30\nmain;idle 10', { gzip: true }).toString('base64');
}

describe("Pyroscope's status codes (compat §3.5) on every new method", () => {
  const METHODS = [
    `${SETTINGS}/Get`,
    `${SETTINGS}/Set`,
    `${SETTINGS}/Delete`,
    `${ADHOC}/Upload`,
    `${ADHOC}/Get`,
    `${ADHOC}/List`,
    `${ADHOC}/Diff`,
    FLAGS,
    '/querier.v1.QuerierService/SelectHeatmap',
    '/querier.v1.QuerierService/AnalyzeQuery',
  ];
  it('GET → 405, another content type → 415, a body that is not JSON → 400, a truncated protobuf → 400', async () => {
    await open();
    for (const url of METHODS) {
      const get = await t!.app.inject({ method: 'GET', url });
      const text = await t!.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: '{}',
      });
      const badJson = await json(url, '{"name": ');
      const badProto = await binary(url, Uint8Array.from([0x0a, 0x7f, 0x01]));
      expect([url, get.statusCode, text.statusCode, badJson.status, badProto.status]).toEqual([
        url,
        405,
        415,
        400,
        400,
      ]);
      expect(badJson.body.code).toBe('invalid_argument');
    }
  });
});
