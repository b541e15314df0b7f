// GroupCommitter against the real DuckDB store: concurrent batches share one commit, each caller
// resolves only after it, and a failed commit fails its whole group.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf, CPU, foldedOf, seriesLabels, T0 } from '../store/conformance.ts';
import { openDuckDBStore, type DuckDBStore } from '../store/duckdb.ts';
import type { WriteBatch } from '../store/types.ts';
import { GroupCommitter } from './committer.ts';

describe('GroupCommitter', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  async function store(): Promise<DuckDBStore> {
    const dir = mkdtempSync(join(tmpdir(), 'hotpath-commit-'));
    const s = await openDuckDBStore({ dataDir: dir });
    cleanup.push(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return s;
  }
  const batch = (app: string, value: number) =>
    batchOf('t', [
      { labels: seriesLabels(CPU, { service_name: app }), timeMs: T0, folded: { 'main;work': value } },
    ]);

  it('appends concurrent batches in one commit and resolves each after it', async () => {
    const s = await store();
    const appends: WriteBatch[] = [];
    const spy = Object.assign(Object.create(s), {
      append: (b: WriteBatch) => (appends.push(b), s.append(b)),
      kind: 'duckdb',
    });
    const c = new GroupCommitter(spy, undefined, { intervalMs: 20 });
    await Promise.all([c.submit(batch('a', 1)), c.submit(batch('b', 2)), c.submit(batch('c', 3))]);
    expect(appends).toHaveLength(1);
    expect(appends[0]!.profiles).toHaveLength(3);
    // Shared dictionary entries are sent once.
    expect(appends[0]!.stacks).toHaveLength(2);
    const merged = await s.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: T0,
      endMs: T0,
    });
    expect(await foldedOf(s, merged)).toEqual({ 'main;work': 6 });
  });

  it('flushes early at maxRows without waiting for the interval', async () => {
    const s = await store();
    const c = new GroupCommitter(s, undefined, { intervalMs: 60_000, maxRows: 2 });
    const first = c.submit(batch('a', 1));
    const second = c.submit(batch('b', 1));
    await Promise.all([first, second]);
    expect(c.commits).toBe(1);
    await c.close();
  });

  it('merges the batches that arrive during a slow commit into the next one', async () => {
    const s = await store();
    const appends: WriteBatch[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.assign(Object.create(s), {
      append: async (b: WriteBatch) => {
        appends.push(b);
        if (appends.length === 1) await gate;
        return s.append(b);
      },
      kind: 'duckdb',
    });
    const c = new GroupCommitter(slow, undefined, { intervalMs: 1, maxRows: 1 });
    const first = c.submit(batch('a', 1));
    // The first commit is held open; three more batches arrive, each over maxRows on its own.
    await new Promise((r) => setTimeout(r, 20));
    const later = [c.submit(batch('b', 2)), c.submit(batch('c', 3)), c.submit(batch('d', 4))];
    await new Promise((r) => setTimeout(r, 20));
    expect(appends).toHaveLength(1);
    release();
    await Promise.all([first, ...later]);
    expect(appends.map((b) => b.profiles.length)).toEqual([1, 3]);
    const merged = await s.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: T0,
      endMs: T0,
    });
    expect(await foldedOf(s, merged)).toEqual({ 'main;work': 10 });
    await c.close();
  });

  it('fails every request of a failed group with commit_failed and refuses new work after close', async () => {
    const s = await store();
    const failing = Object.assign(Object.create(s), {
      append: () => Promise.reject(new Error('no space left on device')),
      kind: 'duckdb',
    });
    const c = new GroupCommitter(failing, undefined, { intervalMs: 5 });
    const results = await Promise.allSettled([c.submit(batch('a', 1)), c.submit(batch('b', 2))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'commit_failed', httpStatus: 503 });
    }
    await c.close();
    await expect(c.submit(batch('c', 1))).rejects.toMatchObject({ code: 'shutting_down', httpStatus: 503 });
  });

  it('close() commits what is waiting', async () => {
    const s = await store();
    const c = new GroupCommitter(s, undefined, { intervalMs: 60_000 });
    const pending = c.submit(batch('late', 4));
    await c.close();
    await pending;
    const merged = await s.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: T0,
      endMs: T0,
    });
    expect([...merged.values]).toEqual([4]);
  });
});
