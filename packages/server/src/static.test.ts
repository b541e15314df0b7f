// Serving the built UI: content types, index.html for client routes, no escape from the directory,
// APIs never shadowed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerStatic } from './static.ts';

describe('static UI', () => {
  const root = mkdtempSync(join(tmpdir(), 'hotpath-ui-'));
  const dist = join(root, 'dist');
  const app = Fastify();
  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Hotpath UI</title>');
    writeFileSync(join(dist, 'assets', 'index-3f9a2b1c.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'style.css'), 'body{}');
    writeFileSync(join(root, 'secret.txt'), 'outside');
    app.get('/ready', async () => 'ready');
    await app.register(async (scope) => registerStatic(scope, dist));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves files with their content types and long caching for hashed assets', async () => {
    const js = await app.inject({ url: '/assets/index-3f9a2b1c.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    const css = await app.inject({ url: '/assets/style.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const index = await app.inject({ url: '/' });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('Hotpath UI');
  });

  it('answers client routes with index.html, missing files and API paths with 404', async () => {
    const route = await app.inject({ url: '/explore/flamegraph?query=x' });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('Hotpath UI');
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/pyroscope/unknown' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/ready' })).body).toBe('ready');
  });

  it('never serves files outside the directory', async () => {
    const res = await app.inject({ url: '/..%2fsecret.txt' });
    expect(res.body).not.toContain('outside');
    const res2 = await app.inject({ url: '/assets/../../secret.txt' });
    expect(res2.body).not.toContain('outside');
  });
});
