// `hotpath keys` offline on a DuckDB data dir (the bootstrap path) and through a running server's
// admin API, driven through the real CLI as subprocesses; the server runs in this process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '@hotpath/server';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'hotpath-cli-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withApiKey<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.HOTPATH_API_KEY;
  process.env.HOTPATH_API_KEY = key;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.HOTPATH_API_KEY;
    else process.env.HOTPATH_API_KEY = before;
  }
}

describe('hotpath keys', () => {
  it('bootstraps offline, then manages keys through the running server', async () => {
    const created = await runCli([
      'keys',
      'create',
      '--data-dir',
      dir,
      '--tenant',
      'ops',
      '--scope',
      'admin',
      '--name',
      'first',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const admin = created.stdout.trim();
    expect(admin).toMatch(/^hp_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only this once/);
    const offlineList = await runCli(['keys', 'list', '--data-dir', dir]);
    expect(offlineList.stdout).toMatch(/ops\s+admin\s+active/);
    expect(offlineList.stdout).not.toContain(admin);

    const server = await startServer({ port: 0, dataDir: dir, auth: 'keys', logger: false });
    try {
      expect(server.bootstrapKey).toBeUndefined(); // an admin key already exists
      // The data dir is now held by the server: offline use says what to do instead.
      const locked = await runCli(['keys', 'list', '--data-dir', dir]);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toMatch(/in use .*--server/);

      const noKey = await runCli(['keys', 'list', '--server', server.url]);
      expect(noKey.code).toBe(1);
      expect(noKey.stderr).toMatch(/401 \(set HOTPATH_API_KEY to an admin key\)/);

      await withApiKey(admin, async () => {
        const made = await runCli([
          'keys',
          'create',
          '--server',
          server.url,
          '--tenant',
          'shop',
          '--scope',
          'write',
        ]);
        expect(made.code, made.stderr).toBe(0);
        const write = made.stdout.trim();
        const ingest = (key: string) =>
          fetch(`${server.url}/ingest?name=shop.cpu&from=${Math.floor(Date.now() / 1000)}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}` },
            body: 'main;work 1',
          });
        expect((await ingest(write)).status).toBe(200);

        const list = await runCli(['keys', 'list', '--url', server.url, '--json']);
        const keys = JSON.parse(list.stdout) as { id: string; tenant: string; scope: string }[];
        const id = keys.find((k) => k.tenant === 'shop')!.id;
        expect(keys.map((k) => [k.tenant, k.scope])).toEqual([
          ['ops', 'admin'],
          ['shop', 'write'],
        ]);
        const revoked = await runCli(['keys', 'revoke', id, '--server', server.url]);
        expect(revoked.code, revoked.stderr).toBe(0);
        expect((await ingest(write)).status).toBe(401);
        const wrongScope = await runCli([
          'keys',
          'create',
          '--server',
          server.url,
          '--tenant',
          'x',
          '--scope',
          'root',
        ]);
        expect(wrongScope.code).toBe(1);
        expect(wrongScope.stderr).toContain('invalid_key_request');
      });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('usage errors', async () => {
    expect((await runCli(['keys', 'rotate'])).code).toBe(2);
    expect((await runCli(['keys', 'revoke', '--data-dir', dir])).code).toBe(2);
  });
});
