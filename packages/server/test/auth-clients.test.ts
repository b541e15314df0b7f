// Real clients against a real listening server with auth on (127.0.0.1): @pyroscope/nodejs with basic
// auth, a pyroscope-io-style Connect Push with basic auth, Grafana's binary-proto queries with basic
// auth, the Hotpath Python SDK; a key revoked mid-run; HTTPS with a self-signed certificate; and what
// a server on 0.0.0.0 does without --auth.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/main.ts';
import { resolveAuthMode } from '../src/auth/startup.ts';
import { encodeSelectRequest } from '../src/query/messages.ts';
import { runProcess } from './support/process.ts';

const NODE_SCRIPT = new URL('./fixtures/nodejs-client.mjs', import.meta.url).pathname;
const PUSH_SCRIPT = new URL('./fixtures/push_like_pyroscope_io.py', import.meta.url).pathname;
const SDK_DIR = new URL('../../../sdk/python', import.meta.url).pathname;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const run = promisify(execFile);

const basic = (user: string, key: string) => `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;

/** Runs the pyroscope-io-style push; returns its HTTP status. */
async function pyroscopePush(url: string, app: string, tenant: string, user: string, key: string) {
  const r = await run(PYTHON, [PUSH_SCRIPT, url, app, tenant, user, key], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  const m = /status (\d+) total (\d+) start (\d+)/.exec(r.stdout);
  if (m === null) throw new Error(r.stdout + r.stderr);
  return { status: Number(m[1]), startMs: Number(m[3]) * 1000, out: r.stdout };
}

describe('auth on, real clients over 127.0.0.1', () => {
  let server: RunningServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      store: 'memory',
      auth: 'keys',
      logger: false,
      groupCommit: { intervalMs: 20 },
    });
    admin = server.bootstrapKey!.key;
  });
  afterAll(async () => server.close());

  const keyFor = async (tenant: string, scope: 'read' | 'write' | 'admin') => {
    const res = await fetch(`${server.url}/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant, scope, name: 'test' }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { key: string; id: string };
  };
  const range = () => ({ startMs: Date.now() - 3_600_000, endMs: Date.now() + 60_000 });

  it('starts in keys mode with a bootstrap admin key (only when the store has none)', () => {
    expect(server.auth).toBe('keys');
    expect(server.bootstrapKey).toMatchObject({ tenant: 'anonymous' });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("@pyroscope/nodejs with basicAuthUser/basicAuthPassword writes into the key's tenant", async () => {
    const { key } = await keyFor('node-tenant', 'write');
    const r = await runProcess(process.execPath, [NODE_SCRIPT, server.url, 'node-tenant', key]);
    expect(r.out).toContain('done true');
    const series = await server.store.series({
      tenant: 'node-tenant',
      selectors: [[{ name: 'service_name', op: '=', value: 'node-test-app' }]],
      ...range(),
    });
    expect(series.length).toBeGreaterThan(0);
    // Without credentials the same client gets nothing in.
    await runProcess(process.execPath, [NODE_SCRIPT, server.url]);
    expect(await server.store.series({ tenant: 'anonymous', selectors: [], ...range() })).toEqual([]);
  });

  it('pyroscope-io Connect Push with basic auth; Grafana reads it back with binary proto and basic auth; revocation is immediate', async () => {
    const write = await keyFor('py-tenant', 'write');
    const read = await keyFor('py-tenant', 'read');
    const pushed = await pyroscopePush(server.url, 'ride-sharing-app', 'py-tenant', 'py-tenant', write.key);
    expect(pushed.status, pushed.out).toBe(200);

    const query = (authorization: string) =>
      fetch(`${server.url}/querier.v1.QuerierService/SelectMergeStacktraces`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto', authorization },
        body: encodeSelectRequest({
          profileTypeId: CPU,
          labelSelector: '{service_name="ride-sharing-app"}',
          start: pushed.startMs,
          end: pushed.startMs + 10_000,
        }),
      });
    const res = await query(basic('py-tenant', read.key));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/proto');
    expect(Buffer.from(await res.arrayBuffer()).toString('latin1')).toContain('slow_function');
    expect((await query(basic('py-tenant', 'hp_wrong'))).status).toBe(401);

    // Revoke the write key while the client keeps pushing: its next push is refused.
    const revoked = await fetch(`${server.url}/api/keys/${write.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(revoked.status).toBe(200);
    const after = await pyroscopePush(server.url, 'ride-sharing-app', 'py-tenant', 'py-tenant', write.key);
    expect(after.status).toBe(401);
    expect(after.out).toContain('invalid_api_key');
  });

  it('the Hotpath Python SDK with HOTPATH_BASIC_AUTH_USERNAME/PASSWORD', async () => {
    const { key } = await keyFor('sdk-tenant', 'write');
    const app = [
      'import time, sys, hotpath',
      'hotpath.configure(application_name="sdk-auth-app", server_address=sys.argv[1], upload_interval=0.3)',
      'def burn_sdk_auth():',
      '    end = time.thread_time() + 0.6',
      '    while time.thread_time() < end: sum(range(300))',
      'burn_sdk_auth()',
      'hotpath.shutdown(timeout=5)',
      'print("done")',
    ].join('\n');
    const r = await run(PYTHON, ['-c', app, server.url], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        PYTHONPATH: SDK_DIR,
        HOTPATH_BASIC_AUTH_USERNAME: 'sdk-tenant',
        HOTPATH_BASIC_AUTH_PASSWORD: key,
      },
    });
    expect(r.stdout).toContain('done');
    const series = await server.store.series({
      tenant: 'sdk-tenant',
      selectors: [[{ name: 'service_name', op: '=', value: 'sdk-auth-app' }]],
      ...range(),
    });
    expect(series.length).toBeGreaterThan(0);
  });
});

describe('HTTPS with --tls-cert/--tls-key', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-tls-'));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      store: 'memory',
      auth: 'keys',
      logger: false,
      tlsCertFile: join(dir, 'cert.pem'),
      tlsKeyFile: join(dir, 'key.pem'),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}${path}`,
        { ca: readFileSync(join(dir, 'cert.pem')), headers },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('serves HTTPS on 127.0.0.1 (certificate verified), with HSTS, and auth applies', async () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(String(ready.headers['strict-transport-security'])).toContain('max-age=');
    expect((await get('/api/apps')).status).toBe(401);
    const apps = await get('/api/apps', { authorization: `Bearer ${server.bootstrapKey!.key}` });
    expect(apps.status).toBe(200);
  });
});

describe('loopback without auth', () => {
  it('answers only requests addressed to a loopback name (DNS rebinding)', async () => {
    const server = await startServer({ port: 0, store: 'memory', logger: false });
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: server.port, path: '/api/apps', headers: { host } },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(server.auth).toBe('none');
      const rebound = await withHost(`rebind.example:${server.port}`);
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ code: 'permission_denied', error: 'host_forbidden' });
      for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`])
        expect((await withHost(host)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('listening beyond loopback', () => {
  it('--host 0.0.0.0 without --auth starts in keys mode and reports its real address', async () => {
    const server = await startServer({ port: 0, host: '0.0.0.0', store: 'memory', logger: false });
    try {
      expect(server.auth).toBe('keys');
      expect(server.url).toBe(`http://0.0.0.0:${server.port}`);
      expect(server.urls).toContain(`http://127.0.0.1:${server.port}`);
      expect(server.warnings).toEqual([]);
      expect(server.bootstrapKey).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${server.port}/api/apps`);
      expect(res.status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('--auth none off loopback is allowed only when asked, with a loud warning', () => {
    expect(resolveAuthMode('0.0.0.0', undefined)).toEqual({ auth: 'keys', warnings: [] });
    expect(resolveAuthMode('10.1.2.3', undefined).auth).toBe('keys');
    expect(resolveAuthMode('127.0.0.1', undefined)).toEqual({ auth: 'none', warnings: [] });
    expect(resolveAuthMode('::1', undefined).auth).toBe('none');
    expect(resolveAuthMode('localhost', undefined).auth).toBe('none');
    const open = resolveAuthMode('0.0.0.0', 'none');
    expect(open.auth).toBe('none');
    expect(open.warnings[0]).toMatch(/AUTHENTICATION IS OFF on 0\.0\.0\.0/);
  });
});
