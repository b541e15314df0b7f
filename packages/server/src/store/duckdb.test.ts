// The DuckDB store: the shared conformance suite plus what is specific to the embedded file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf, CPU, seriesLabels, T0, runStoreConformance } from './conformance.ts';
import { seededRandom } from '@hotpath/core';
import { DuckDBStore, openDuckDBStore, seriesIdOf } from './duckdb.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

runStoreConformance('duckdb', async (dir) => new DuckDBStore({ dataDir: dir }));

/** Rolls every hour up after each append, so every read goes through samples_1h where it can. */
class RolledUpStore extends DuckDBStore {
  override async append(batch: Parameters<DuckDBStore['append']>[0]): Promise<void> {
    await super.append(batch);
    await this.rollUp(8.64e15);
  }
}
runStoreConformance('duckdb, every hour rolled up', async (dir) => new RolledUpStore({ dataDir: dir }));

describe('DuckDB store specifics', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'hotpath-duckdb-'));
    dirs.push(d);
    return d;
  };

  /** Tenant t's CPU merge over [startMs, endMs] as (stack id, value) pairs sorted by id. */
  async function merged(s: DuckDBStore, [startMs, endMs]: [number, number]) {
    const m = await s.mergeStacks({ tenant: 't', profileTypeId: CPU, matchers: [], startMs, endMs });
    return [...m.stackIds].map((id, i) => [id, m.values[i]!] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  async function count(path: string, sql: string): Promise<number> {
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    const r = await c.run(sql);
    const n = Number(r.getChunk(0).getColumnVector(0).getItem(0));
    c.closeSync();
    inst.closeSync();
    return n;
  }

  it('writes each dictionary entry once and records the schema version', async () => {
    const dir = tmp();
    const store = await openDuckDBStore({ dataDir: dir });
    const labels = seriesLabels(CPU, { service_name: 'a' });
    for (let i = 0; i < 3; i++) {
      await store.append(
        batchOf('t', [{ labels, timeMs: T0 + i, folded: { 'main;work': 1, 'main;work;deep': 2 } }]),
      );
    }
    await store.close();
    expect(await count(store.path, 'SELECT count(*) FROM functions')).toBe(3);
    expect(await count(store.path, 'SELECT count(*) FROM stacks')).toBe(3);
    expect(await count(store.path, 'SELECT count(*) FROM series')).toBe(1);
    expect(await count(store.path, 'SELECT count(*) FROM samples')).toBe(6);
    expect(await count(store.path, 'SELECT max(version) FROM schema_version')).toBe(SCHEMA_VERSION);
  });

  it('a failed append leaves no rows and no cached ids behind', async () => {
    const dir = tmp();
    const store = await openDuckDBStore({ dataDir: dir });
    const good = batchOf('t', [
      { labels: seriesLabels(CPU, { service_name: 'a' }), timeMs: T0, folded: { 'x;y': 1 } },
    ]);
    // A profile referring to a stack that is neither in the batch nor in the store.
    const bad = { ...good, stacks: good.stacks.slice(0, 1) };
    await expect(store.append(bad)).rejects.toThrow(/stack id/);
    expect((await store.getStacks(good.stacks.map((s) => s.id))).size).toBe(0);
    await store.append(good);
    const merged = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: T0,
      endMs: T0,
    });
    expect([...merged.values]).toEqual([1]);
    await store.close();
    expect(await count(store.path, 'SELECT count(*) FROM stacks')).toBe(2);
  });

  it('rejects an invalid regex matcher with a coded error', async () => {
    const store = await openDuckDBStore({ dataDir: tmp() });
    await store.append(
      batchOf('t', [{ labels: seriesLabels(CPU, { service_name: 'a' }), timeMs: T0, folded: { a: 1 } }]),
    );
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
    await store.close();
  });

  it('retention deletes whole UTC days before the cutoff, in memory and on disk', async () => {
    const dir = tmp();
    const store = await openDuckDBStore({ dataDir: dir });
    const day = 86_400_000;
    const base = Math.floor(T0 / day) * day;
    const a = seriesLabels(CPU, { service_name: 'a' });
    const old = seriesLabels(CPU, { service_name: 'only-old' });
    await store.append(
      batchOf('t', [
        ...[0, 1, 2].map((d) => ({ labels: a, timeMs: base + d * day + 5, folded: { 'main;work': d + 1 } })),
        { labels: old, timeMs: base + 5, folded: { 'main;gone': 9 } },
      ]),
    );
    expect(await store.dropDaysBefore(base + day - 1)).toEqual([]); // day 0 is not over yet at the cutoff
    expect(await store.dropDaysBefore(base + 2 * day + 10)).toEqual([base / day, base / day + 1]);
    expect(await store.dropDaysBefore(base + 2 * day + 10)).toEqual([]);
    const check = async (s: DuckDBStore): Promise<void> => {
      const all = { tenant: 't', profileTypeId: CPU, matchers: [], startMs: 0, endMs: base + 3 * day };
      expect([...(await s.mergeStacks(all)).values]).toEqual([3]);
      expect(await s.stats('t')).toMatchObject({
        oldestProfileTimeMs: base + 2 * day + 5,
        newestProfileTimeMs: base + 2 * day + 5,
      });
      // The series left without profiles no longer shows in any range.
      const q = { tenant: 't', selectors: [], startMs: 0, endMs: base + 3 * day };
      expect((await s.labelValues({ ...q, name: 'service_name' })).sort()).toEqual(['a']);
      const points = await s.timeSeries({ ...all, stepMs: day, groupBy: [], aggregation: 'sum' });
      expect(points.flatMap((p) => [...p.timestampsMs])).toEqual([base + 2 * day]);
    };
    await check(store);
    await store.close();
    expect(await count(store.path, 'SELECT count(*) FROM samples')).toBe(1);
    expect(await count(store.path, 'SELECT count(*) FROM profiles')).toBe(1);
    const reopened = await openDuckDBStore({ dataDir: dir });
    await check(reopened);
    await reopened.close();
  });

  it('retention waits for appends under way and lets later ones in', async () => {
    const store = await openDuckDBStore({ dataDir: tmp() });
    const day = 86_400_000;
    const base = Math.floor(T0 / day) * day;
    const labels = seriesLabels(CPU, { service_name: 'a' });
    const write = (timeMs: number) => store.append(batchOf('t', [{ labels, timeMs, folded: { x: 1 } }]));
    const [, dropped] = await Promise.all([
      write(base + 5),
      store.dropDaysBefore(base + day),
      write(base + 6),
    ]);
    expect(dropped).toEqual([base / day]);
    const merged = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: 0,
      endMs: base + day,
    });
    expect([...merged.values]).toEqual([1]); // the append issued after the drop is kept
    await store.close();
  });

  it('a merge over rolled-up hours equals one over the raw samples, on and off hour boundaries', async () => {
    const H = 3_600_000;
    const base = Math.floor(T0 / H) * H;
    const raw = await openDuckDBStore({ dataDir: tmp(), rollupEveryMs: 0 });
    const rolled = await openDuckDBStore({ dataDir: tmp(), rollupEveryMs: 0 });
    const labels = seriesLabels(CPU, { service_name: 'a' });
    const rnd = seededRandom(11);
    // Integer values, so sums in any order are exact; times on, just before and between hours.
    const profiles = [];
    for (let i = 0; i < 120; i++) {
      const hour = base + Math.floor(rnd() * 5) * H;
      const timeMs = [hour, hour - 1, hour + Math.floor(rnd() * H)][i % 3]!;
      const folded: Record<string, number> = {};
      for (let k = 0; k < 6; k++) folded[`main;f${Math.floor(rnd() * 8)};g${k}`] = 1 + Math.floor(rnd() * 50);
      profiles.push({ labels, timeMs, folded });
    }
    const late = profiles.splice(100); // appended after the rollup, into hours it already summed
    for (const s of [raw, rolled]) await s.append(batchOf('t', profiles));
    // Hours are rolled up 5 minutes after they end.
    expect(await rolled.rollUp(base + 4 * H + 299_999)).toBe(base + 3 * H);
    expect(await rolled.rollUp(base + 4 * H + 300_000)).toBe(base + 4 * H);
    for (const s of [raw, rolled]) await s.append(batchOf('t', late)); // late: their hours are dirty
    const ranges: [number, number][] = [
      [base - H, base + 6 * H],
      [base, base + 2 * H - 1],
      [base, base + 2 * H],
      [base + 1, base + 3 * H - 2],
      [base - 1, base + 4 * H - 1],
      [base + 3 * H + 5, base + 5 * H],
      [base + 30 * 60_000, base + 30 * 60_000 + 3 * H],
    ];
    for (const r of ranges)
      expect(await merged(rolled, r), `range ${r.join('..')}`).toEqual(await merged(raw, r));
    // The watermark and the dirty hours survive a restart; the next rollup sums the dirty hours
    // again (nothing twice) and reads are the same from the rollup alone.
    await rolled.close();
    const reopened = await openDuckDBStore({ dataDir: dirs.at(-1)!, rollupEveryMs: 0 });
    for (const r of ranges)
      expect(await merged(reopened, r), `range ${r.join('..')}`).toEqual(await merged(raw, r));
    expect(await reopened.rollUp(base + 4 * H + 300_000)).toBe(base + 4 * H);
    expect(await reopened.rollUp(base + 6 * H + 300_000)).toBe(base + 6 * H);
    for (const r of ranges)
      expect(await merged(reopened, r), `range ${r.join('..')}`).toEqual(await merged(raw, r));
    await reopened.close();
    await raw.close();
  });

  it('rolls a long history up in day steps, and a backfill over many hours', async () => {
    const H = 3_600_000;
    const base = Math.floor(T0 / H) * H;
    const raw = await openDuckDBStore({ dataDir: tmp(), rollupEveryMs: 0 });
    const rolled = await openDuckDBStore({ dataDir: tmp(), rollupEveryMs: 0 });
    const labels = seriesLabels(CPU, { service_name: 'a' });
    const hourly = (from: number, n: number, value: number) =>
      Array.from({ length: n }, (_, h) => ({
        labels,
        timeMs: base + (from + h) * H + 1_000,
        folded: { [`main;h${(from + h) % 7}`]: value },
      }));
    for (const s of [raw, rolled]) await s.append(batchOf('t', hourly(0, 60, 5)));
    // Sixty hours from a watermark at 0: skipped to the first sample, then three day-sized steps.
    expect(await rolled.rollUp(base + 60 * H + 300_000)).toBe(base + 60 * H);
    // A backfill into 30 rolled hours: more dirty hours than one step takes.
    for (const s of [raw, rolled]) await s.append(batchOf('t', hourly(10, 30, 2)));
    const ranges: [number, number][] = [
      [base, base + 60 * H],
      [base + 12 * H, base + 36 * H - 1],
      [base + 5 * H + 7, base + 45 * H],
    ];
    for (const [a, b] of ranges) expect(await merged(rolled, [a, b])).toEqual(await merged(raw, [a, b]));
    expect(await rolled.rollUp(base + 60 * H + 300_000)).toBe(base + 60 * H);
    for (const [a, b] of ranges) expect(await merged(rolled, [a, b])).toEqual(await merged(raw, [a, b]));
    await rolled.close();
    expect(await count(rolled.path, 'SELECT count(*) FROM rollup_dirty')).toBe(0);
    // One row per (hour, stack): the backfill's stacks are those its hours already had.
    expect(await count(rolled.path, 'SELECT count(*) FROM samples_1h')).toBe(60);
    await raw.close();
  });

  it('opens a database written with schema v1, migrates it and rolls its history up', async () => {
    const dir = tmp();
    const H = 3_600_000;
    const base = Math.floor(T0 / H) * H;
    const labels = seriesLabels(CPU, { service_name: 'old' });
    const inst = await DuckDBInstance.create(join(dir, 'hotpath.duckdb'));
    const c = await inst.connect();
    await c.run('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const sql of MIGRATIONS[0]!.sql) await c.run(sql);
    await c.run('INSERT INTO schema_version VALUES (1)');
    const pairs = JSON.stringify(labels.map((l) => [l.name, l.value])).replace(/'/g, "''");
    await c.run(`INSERT INTO series VALUES (0, 't', ${seriesIdOf('t', labels)}, '${pairs}')`);
    await c.run(`INSERT INTO functions VALUES (7, 'main', '')`);
    await c.run(`INSERT INTO stacks VALUES (0, 70, 0, 7)`);
    for (const [t, v] of [
      [base + 5, 2],
      [base + H + 5, 3],
      [base + 2 * H + 5, 4],
    ] as const) {
      await c.run(`INSERT INTO profiles VALUES (0, ${t}, ${v})`);
      await c.run(`INSERT INTO samples VALUES (0, ${t}, 0, ${v})`);
    }
    c.closeSync();
    inst.closeSync();
    const store = await openDuckDBStore({ dataDir: dir, rollupEveryMs: 0 });
    expect(await store.rollUp(base + 2 * H + 300_000)).toBe(base + 2 * H);
    const m = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: base,
      endMs: base + 3 * H,
    });
    expect([...m.stackIds]).toEqual([70n]);
    expect([...m.values]).toEqual([9]);
    await store.close();
    expect(await count(store.path, 'SELECT max(version) FROM schema_version')).toBe(SCHEMA_VERSION);
    expect(await count(store.path, 'SELECT count(*) FROM samples_1h')).toBe(2);
  });

  it('schedules rollups and reports each failure to onRollupError', async () => {
    class FailingRollups extends DuckDBStore {
      calls = 0;
      override rollUp(): Promise<number> {
        this.calls++;
        return Promise.reject(new Error('disk full'));
      }
    }
    const store = new FailingRollups({ dataDir: tmp(), rollupEveryMs: 20 });
    const reported: unknown[] = [];
    store.onRollupError = (e) => reported.push(e);
    await store.init();
    await expect.poll(() => reported.length).toBeGreaterThanOrEqual(2);
    expect((store.rollupError as Error).message).toBe('disk full');
    await store.close();
    const calls = store.calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(store.calls).toBe(calls); // close stopped the schedule
  });
});
