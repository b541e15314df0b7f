// A 200 means durable: a real server process is killed with SIGKILL right after acknowledging a
// write; the data must be in the data directory (read with openStore + mergeStacks, not the query
// API). Also: SIGTERM lets an in-flight write finish and commit before the process exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.ts';
import { foldedOf } from '../src/store/conformance.ts';
import { pprofOf } from './support/pprof.ts';
import { spawnServer, type ServerProcess } from './support/process.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

async function post(url: string, body: Buffer): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/octet-stream' },
  });
  await res.arrayBuffer();
  return res.status;
}

async function readBack(dataDir: string, service: string): Promise<Record<string, number>> {
  const store = await openStore({ kind: 'duckdb', dataDir });
  try {
    const merged = await store.mergeStacks({
      tenant: 'anonymous',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: service }],
      startMs: 0,
      endMs: Date.now() + 3_600_000,
    });
    return await foldedOf(store, merged);
  } finally {
    await store.close();
  }
}

describe('durability', () => {
  const cleanup: (() => void)[] = [];
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    server = undefined;
    for (const c of cleanup.splice(0)) c();
  });

  it('kill -9 right after the 200 loses nothing; a restart on the same data dir serves it again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-durable-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    server = await spawnServer(['--data-dir', dataDir, '--commit-interval', '50']);
    const status = await post(
      `${server.url}/ingest?name=durable-app&format=pprof`,
      pprofOf('main;persist 42\nmain;other 8', { timeMs: Date.now(), gzip: true }),
    );
    server.child.kill('SIGKILL');
    expect(status).toBe(200);
    expect(await server.exited).toBe('SIGKILL');
    expect(await readBack(dataDir, 'durable-app')).toEqual({ 'main;persist': 42, 'main;other': 8 });

    // The server itself starts on the recovered directory and keeps appending to it.
    server = await spawnServer(['--data-dir', dataDir]);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect(
      await post(
        `${server.url}/ingest?name=durable-app&format=pprof`,
        pprofOf('main;persist 1', { timeMs: Date.now() }),
      ),
    ).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await readBack(dataDir, 'durable-app')).toEqual({ 'main;persist': 43, 'main;other': 8 });
  });

  it('SIGTERM during a write: the write is answered 200, committed, then the process exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-graceful-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // A long commit interval keeps the write waiting in the group committer when SIGTERM arrives.
    server = await spawnServer(['--data-dir', dataDir, '--commit-interval', '1500']);
    const pending = post(
      `${server.url}/ingest?name=graceful-app&format=pprof`,
      pprofOf('main;inflight 7', { timeMs: Date.now() }),
    );
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    expect(await pending).toBe(200);
    expect(await server.exited).toBe(0);
    expect(await readBack(dataDir, 'graceful-app')).toEqual({ 'main;inflight': 7 });
  });
});
