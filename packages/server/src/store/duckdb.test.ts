// The DuckDB store: the shared conformance suite plus what is specific to the embedded file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf, CPU, seriesLabels, T0, runStoreConformance } from './conformance.ts';
import { DuckDBStore, openDuckDBStore } from './duckdb.ts';
import { SCHEMA_VERSION } from './schema.ts';

runStoreConformance('duckdb', async (dir) => new DuckDBStore({ dataDir: dir }));

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
});
