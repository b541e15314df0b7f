// The ClickHouse store against a real clickhouse-server started on loopback for this file: the shared
// conformance suite, then what is specific to ClickHouse (escaping, batching, outages, retention).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU, T0, batchOf, foldedOf, runStoreConformance, seriesLabels } from './conformance.ts';
import { ClickHouseStore, openClickHouseStore } from './clickhouse.ts';
import { ClickHouseHttp, sqlIdList, sqlString } from './clickhouse/http.ts';
import { SCHEMA_VERSION } from './clickhouse/schema.ts';
import {
  findClickHouseServer,
  freePort,
  openChdbClient,
  startClickHouse,
  type ClickHouseServer,
} from '../../test/support/clickhouse.ts';
import type { SqlClient } from './clickhouse/http.ts';

/** One database per conformance data dir, so re-opening a dir re-opens its data. */
const databaseFor = (dir: string): string =>
  `hp_${createHash('sha1').update(dir).digest('hex').slice(0, 16)}`;

// The same SQL on a current ClickHouse (chdb embeds one): one session, a database per store.
const chdbDir = mkdtempSync(join(tmpdir(), 'hotpath-chdb-'));
const chdb = await openChdbClient(chdbDir);
if (chdb === null) {
  rmSync(chdbDir, { recursive: true, force: true });
  describe.skip('ClickHouse store on chdb: skipped because the chdb package does not load on this machine', () => {
    it('needs chdb', () => {});
  });
} else {
  afterAll(() => {
    chdb.close();
    rmSync(chdbDir, { recursive: true, force: true });
  });
  // Stores close their client; the session is shared, so theirs is a view that does not close it.
  const shared: SqlClient = { ...chdb, close: () => {} };
  runStoreConformance(
    'clickhouse on chdb (current ClickHouse)',
    async (dir) =>
      new ClickHouseStore({ url: chdb.url, database: databaseFor(dir), flushIntervalMs: 0, client: shared }),
  );
}

const binary = findClickHouseServer();
if (binary === null) {
  describe.skip('ClickHouse store: skipped because clickhouse-server is not installed (apt-get install clickhouse-server)', () => {
    it('needs clickhouse-server', () => {});
  });
} else {
  let server: ClickHouseServer;
  let sql: ClickHouseHttp;
  const opened: ClickHouseStore[] = [];

  beforeAll(async () => {
    server = await startClickHouse();
    sql = new ClickHouseHttp({ url: server.url });
  }, 90_000);

  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => {});
    sql?.close();
    await server?.stop();
  }, 30_000);

  const open = (
    database: string,
    opts: { flushIntervalMs?: number; maxBufferedSamples?: number; maxFilterStacks?: number } = {},
  ): ClickHouseStore => {
    const s = new ClickHouseStore({
      url: server.url,
      database,
      flushIntervalMs: opts.flushIntervalMs ?? 0,
      maxBufferedSamples: opts.maxBufferedSamples,
      maxFilterStacks: opts.maxFilterStacks,
    });
    opened.push(s);
    return s;
  };
  const count = async (q: string): Promise<number> => Number((await sql.exec(q)).toString('utf8').trim());

  runStoreConformance('clickhouse', async (dir) => open(databaseFor(dir)));

  describe('ClickHouse SQL text', () => {
    it('sqlString round-trips awkward strings through the server', async () => {
      const samples = [
        "it's",
        'back\\slash',
        'tab\there',
        'new\nline',
        'cr\rx',
        'nul\u0000x',
        'bell\u0007',
        "\\'",
        'ünïcödé ✓ 😀',
        '',
        "'; DROP TABLE x; --",
      ];
      for (const s of samples) {
        const out = await sql.jsonRows<{ s: string }>(`SELECT ${sqlString(s)} AS s`);
        expect(out[0]!.s).toBe(s);
      }
    });

    it('sqlIdList keeps 64-bit ids exact', async () => {
      const ids = [1n, 0xffffffffffffffffn, 0x8000000000000000n];
      const out = await sql.jsonRows<{ x: string }>(`SELECT arrayJoin([${sqlIdList(ids)}]) AS x`);
      expect(out.map((r) => BigInt(r.x))).toEqual(ids);
    });
  });

  describe('ClickHouse store specifics', () => {
    it('stores names, files and tenants with any characters', async () => {
      const store = open('hp_chars');
      await store.init();
      const tenant = "ten'ant\\\t1";
      const labels = seriesLabels(CPU, { service_name: 'svc "x"\n', region: "o'hare\\" });
      const weird = ['a\tb', "c'd", 'e\\f\ng', 'ü😀'].join(';');
      await store.append(batchOf(tenant, [{ labels, timeMs: T0, folded: { [weird]: 7 } }]));
      const merged = await store.mergeStacks({
        tenant,
        profileTypeId: CPU,
        matchers: [{ name: 'region', op: '=', value: "o'hare\\" }],
        startMs: T0,
        endMs: T0,
      });
      expect(await foldedOf(store, merged)).toEqual({ [weird]: 7 });
      expect(await store.series({ tenant, selectors: [], startMs: T0, endMs: T0 })).toEqual([labels]);
      expect(
        await store.labelValues({ tenant, selectors: [], name: 'service_name', startMs: T0, endMs: T0 }),
      ).toEqual(['svc "x"\n']);
    });

    it('writes each dictionary entry once per replica and records the schema version', async () => {
      const store = open('hp_once');
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'a' });
      for (let i = 0; i < 3; i++)
        await store.append(
          batchOf('t', [{ labels, timeMs: T0 + i, folded: { 'main;work': 1, 'main;work;deep': 2 } }]),
        );
      expect(await count('SELECT count() FROM hp_once.functions')).toBe(3);
      expect(await count('SELECT count() FROM hp_once.stacks')).toBe(3);
      expect(await count('SELECT count() FROM hp_once.series')).toBe(1);
      expect(await count('SELECT count() FROM hp_once.profiles')).toBe(3);
      expect(await count('SELECT count() FROM hp_once.samples')).toBe(6);
      expect(await count('SELECT max(version) FROM hp_once.schema_versions')).toBe(SCHEMA_VERSION);
      // A second replica (no shared memory) writes the entries again; ReplacingMergeTree folds them.
      const other = open('hp_once');
      await other.init();
      await other.append(batchOf('t', [{ labels, timeMs: T0 + 5, folded: { 'main;work': 1 } }]));
      await sql.exec('OPTIMIZE TABLE hp_once.stacks FINAL');
      expect(await count('SELECT count() FROM hp_once.stacks')).toBe(3);
      expect(await count('SELECT count() FROM hp_once.schema_versions')).toBe(SCHEMA_VERSION);
      const merged = await other.mergeStacks({
        tenant: 't',
        profileTypeId: CPU,
        matchers: [],
        startMs: T0,
        endMs: T0 + 10,
      });
      expect(await foldedOf(other, merged)).toEqual({ 'main;work': 4, 'main;work;deep': 6 });
    });

    it('hotpath server --clickhouse-database keeps its tables in that database', async () => {
      const { startServer } = await import('../main.ts');
      const running = await startServer({
        port: 0,
        store: 'clickhouse',
        clickhouseUrl: server.url,
        clickhouseDatabase: 'hp_flag',
        logger: false,
      });
      try {
        const now = Math.floor(Date.now() / 1000);
        const res = await fetch(
          `${running.url}/ingest?name=flagapp.cpu&format=folded&from=${now - 10}&until=${now}`,
          {
            method: 'POST',
            body: 'main;work 7\n',
          },
        );
        expect(res.status).toBe(200);
      } finally {
        await running.close();
      }
      expect(await count('SELECT count() FROM hp_flag.samples')).toBe(1);
      expect(await count(`SELECT count() FROM system.tables WHERE database = 'hotpath'`)).toBe(0);
    });

    it('hotpath server --retention drops the days older than it, at start', async () => {
      const { startServer } = await import('../main.ts');
      const common = {
        port: 0,
        store: 'clickhouse' as const,
        clickhouseUrl: server.url,
        clickhouseDatabase: 'hp_retention',
        logger: false,
      };
      const day = 86_400_000;
      const nowS = Math.floor(Date.now() / 1000);
      const writer = await startServer({ ...common, limits: { rejectOlderThanMs: 30 * day } });
      try {
        for (const ageS of [5 * 86_400, 60]) {
          const res = await fetch(
            `${writer.url}/ingest?name=keep.cpu&format=folded&from=${nowS - ageS}&until=${nowS - ageS + 10}`,
            {
              method: 'POST',
              body: `main;age_${ageS} 3\n`,
            },
          );
          expect(res.status).toBe(200);
        }
      } finally {
        await writer.close();
      }
      expect(await count('SELECT count() FROM hp_retention.samples')).toBe(2);
      const pruner = await startServer({ ...common, retentionMs: 2 * day });
      try {
        // The pass runs in the background from start; close() below waits for the one under way.
        const deadline = Date.now() + 20_000;
        while ((await count('SELECT count() FROM hp_retention.samples')) !== 1 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
      } finally {
        await pruner.close();
      }
      expect(await count('SELECT count() FROM hp_retention.samples')).toBe(1);
      expect(await count('SELECT count() FROM hp_retention.profiles')).toBe(1);
    });

    it('batches concurrent appends into one insert per table and acknowledges each', async () => {
      const store = open('hp_batch', { flushIntervalMs: 200 });
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'b' });
      await store.append(batchOf('t', [{ labels, timeMs: T0, folded: { x: 1 } }]));
      expect(store.flushes).toBe(1);
      // Issued together right after a flush: they wait for the interval and go as one insert.
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.append(batchOf('t', [{ labels, timeMs: T0 + 1 + i, folded: { x: 1, 'x;y': i } }])),
        ),
      );
      expect(store.flushes).toBe(2);
      expect(await count('SELECT count() FROM hp_batch.profiles')).toBe(6);
      const merged = await store.mergeStacks({
        tenant: 't',
        profileTypeId: CPU,
        matchers: [],
        startMs: T0,
        endMs: T0 + 10,
      });
      expect(await foldedOf(store, merged)).toEqual({ x: 6, 'x;y': 10 });
    });

    it('appends arriving during an insert go together in the next one', async () => {
      const store = open('hp_coalesce', { flushIntervalMs: 0 });
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'c' });
      const first = store.append(batchOf('t', [{ labels, timeMs: T0, folded: { x: 1 } }]));
      const rest = Array.from({ length: 4 }, (_, i) =>
        store.append(batchOf('t', [{ labels, timeMs: T0 + 1 + i, folded: { x: 1 } }])),
      );
      await Promise.all([first, ...rest]);
      expect(store.flushes).toBe(2);
      expect(await count('SELECT count() FROM hp_coalesce.profiles')).toBe(5);
    });

    it('flushes at once when the buffer is full, without waiting for the interval', async () => {
      const store = open('hp_full', { flushIntervalMs: 3_600_000, maxBufferedSamples: 3 });
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'f' });
      await store.append(batchOf('t', [{ labels, timeMs: T0, folded: { a: 1 } }]));
      // The next append is inside the (hour-long) interval but fills the buffer: it must not wait.
      await store.append(batchOf('t', [{ labels, timeMs: T0 + 1, folded: { a: 1, b: 1, c: 1 } }]));
      expect(store.flushes).toBe(2);
      // close() flushes what is still buffered.
      const pending = store.append(batchOf('t', [{ labels, timeMs: T0 + 2, folded: { a: 1 } }]));
      await store.close();
      await pending;
      expect(await count('SELECT count() FROM hp_full.samples')).toBe(5);
    });

    it('long ranges read whole hours from the rollup and agree with the raw samples', async () => {
      const store = open('hp_rollup');
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'h' });
      const hour = 3_600_000;
      const base = Math.floor(T0 / hour) * hour;
      // 30 profiles every 10 minutes over 5 hours; values 1.25 · (i + 1) so float sums stay exact.
      const profiles = Array.from({ length: 30 }, (_, i) => ({
        labels,
        timeMs: base + i * 600_000 + 7,
        folded: { [`main;f${i % 4}`]: 1.25 * (i + 1), 'main;g': 2 },
      }));
      await store.append(batchOf('t', profiles));
      expect(await count('SELECT count() FROM hp_rollup.samples_1h')).toBeGreaterThan(0);
      const q = { tenant: 't', profileTypeId: CPU, matchers: [] };
      // Ragged ends on both sides of three whole hours, so both branches contribute.
      const startMs = base + 1_800_000;
      const endMs = base + 4 * hour + 1_200_000;
      const expected: Record<string, number> = {};
      for (const p of profiles) {
        if (p.timeMs < startMs || p.timeMs > endMs) continue;
        for (const [k, v] of Object.entries(p.folded)) expected[k] = (expected[k] ?? 0) + v;
      }
      expect(await foldedOf(store, await store.mergeStacks({ ...q, startMs, endMs }))).toEqual(expected);
      // The same through raw samples only: one-profile ranges, summed here.
      const raw: Record<string, number> = {};
      for (const p of profiles) {
        if (p.timeMs < startMs || p.timeMs > endMs) continue;
        for (const [k, v] of Object.entries(
          await foldedOf(store, await store.mergeStacks({ ...q, startMs: p.timeMs, endMs: p.timeMs })),
        ))
          raw[k] = (raw[k] ?? 0) + v;
      }
      expect(raw).toEqual(expected);
    });

    it('rejects an invalid regex matcher with a coded error', async () => {
      const store = open('hp_regex');
      await store.init();
      await expect(
        store.series({
          tenant: 't',
          selectors: [[{ name: 'service_name', op: '=~', value: '(' }]],
          startMs: 0,
          endMs: T0,
        }),
      ).rejects.toMatchObject({
        code: 'invalid_matcher',
        httpStatus: 400,
      });
    });

    it('a stack filter walks at most maxFilterStacks sampled stacks, then is a coded 400', async () => {
      const store = open('hp_filter_cap', { maxFilterStacks: 2 });
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'api' });
      await store.append(batchOf('t', [{ labels, timeMs: T0, folded: { 'a;b': 1, 'a;c': 2 } }]));
      const q = {
        tenant: 't',
        profileTypeId: CPU,
        matchers: [],
        startMs: T0,
        endMs: T0,
        stepMs: 10_000,
        groupBy: [],
        aggregation: 'sum' as const,
        stacks: { functionName: 'a' },
      };
      expect((await store.timeSeries(q)).map((s) => [...s.values])).toEqual([[3]]);
      await store.append(batchOf('t', [{ labels, timeMs: T0, folded: { 'a;d': 4 } }]));
      await expect(store.timeSeries(q)).rejects.toMatchObject({
        code: 'stack_filter_too_large',
        httpStatus: 400,
        details: { limit: 2, actual: 3 },
      });
    });

    it('drops whole UTC days for retention', async () => {
      const store = open('hp_retention');
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'r' });
      const day = 86_400_000;
      const base = Math.floor(T0 / day) * day;
      await store.append(
        batchOf(
          't',
          [0, 1, 2].map((d) => ({ labels, timeMs: base + d * day + 5, folded: { a: d + 1 } })),
        ),
      );
      expect(await store.dropDaysBefore(base + 2 * day + 10)).toEqual([base / day, base / day + 1]);
      const merged = await store.mergeStacks({
        tenant: 't',
        profileTypeId: CPU,
        matchers: [],
        startMs: 0,
        endMs: base + 3 * day,
      });
      expect([...merged.values]).toEqual([3]);
      expect((await store.stats('t')).oldestProfileTimeMs).toBe(base + 2 * day + 5);
    });

    it('survives ClickHouse closing an idle keep-alive connection', async () => {
      const client = new ClickHouseHttp({ url: server.url });
      try {
        expect((await client.exec('SELECT 1')).toString().trim()).toBe('1');
        // Block the event loop past the server's keep_alive_timeout (3 s), so the pooled socket is
        // still in the pool, already closed by the server, when the next request takes it.
        const until = Date.now() + 4_000;
        while (Date.now() < until) {
          // busy wait on purpose
        }
        expect((await client.exec('SELECT 2')).toString().trim()).toBe('2');
      } finally {
        client.close();
      }
    });

    it('names the URL when ClickHouse is unreachable at start', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      await expect(openClickHouseStore({ url })).rejects.toMatchObject({
        code: 'store_unavailable',
        httpStatus: 503,
        message: expect.stringContaining(`ClickHouse at ${url} is unreachable`),
      });
    });

    it('names an unknown cluster', async () => {
      await expect(
        openClickHouseStore({ url: server.url, cluster: 'nope', database: 'hp_nocluster' }),
      ).rejects.toMatchObject({
        code: 'clickhouse_cluster_unknown',
        message: expect.stringContaining('nope'),
      });
    });

    // Last: it stops and restarts the server this file shares.
    it('answers 503 while ClickHouse is down, acknowledges nothing, and recovers by itself', async () => {
      const store = open('hp_outage');
      await store.init();
      const labels = seriesLabels(CPU, { service_name: 'o' });
      const q = { tenant: 't', profileTypeId: CPU, matchers: [], startMs: T0, endMs: T0 + 10 };
      await store.append(batchOf('t', [{ labels, timeMs: T0, folded: { a: 1 } }]));

      await server.kill(true);
      await expect(
        store.append(batchOf('t', [{ labels, timeMs: T0 + 1, folded: { a: 100 } }])),
      ).rejects.toMatchObject({
        code: 'store_unavailable',
        httpStatus: 503,
        connectCode: 'unavailable',
        message: expect.stringContaining(server.url),
      });
      await expect(store.mergeStacks(q)).rejects.toMatchObject({
        code: 'store_unavailable',
        httpStatus: 503,
      });
      await expect(
        store.labelNames({ tenant: 't', selectors: [], startMs: T0, endMs: T0 }),
      ).rejects.toMatchObject({ httpStatus: 503 });

      await server.restart();
      await store.append(batchOf('t', [{ labels, timeMs: T0 + 2, folded: { a: 10 } }]));
      const merged = await store.mergeStacks(q);
      expect(await foldedOf(store, merged)).toEqual({ a: 11 });
    }, 90_000);
  });
}
