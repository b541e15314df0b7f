// The real @pyroscope/nodejs client (0.6.x: /ingest, format=pprof, gzip body without
// Content-Encoding) pushes to a real listening Hotpath server; the data is read back via the Store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLabel } from '@hotpath/core';
import { startServer, type RunningServer } from '../src/main.ts';
import { foldedOf } from '../src/store/conformance.ts';
import { runProcess } from './support/process.ts';

const SCRIPT = new URL('./fixtures/nodejs-client.mjs', import.meta.url).pathname;

describe('@pyroscope/nodejs → Hotpath', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-nodejs-'));
    server = await startServer({ port: 0, dataDir: dir, logger: false, groupCommit: { intervalMs: 20 } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the wall profiles it pushes, with its labels and our burning function', async () => {
    const r = await runProcess(process.execPath, [SCRIPT, `http://127.0.0.1:${server.port}`]);
    expect(r.out).toContain('done true');
    expect(r.code).toBe(0);
    const range = { startMs: Date.now() - 3_600_000, endMs: Date.now() + 60_000 };
    const series = await server.store.series({
      tenant: 'anonymous',
      selectors: [[{ name: 'service_name', op: '=', value: 'node-test-app' }]],
      ...range,
    });
    expect(series.length).toBeGreaterThan(0);
    const types = [...new Set(series.map((s) => getLabel(s, '__profile_type__')))];
    const wall = types.find((t) => t!.startsWith('wall:wall:'));
    expect(wall).toBeDefined();
    expect(getLabel(series[0]!, 'pyroscope_spy')).toBe('nodespy');
    expect(getLabel(series[0]!, 'team')).toBe('hotpath');
    expect(getLabel(series[0]!, 'process.runtime.name')).toBe('nodejs');
    const merged = await server.store.mergeStacks({
      tenant: 'anonymous',
      profileTypeId: wall!,
      matchers: [],
      ...range,
    });
    expect(merged.values.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const stacks = Object.keys(await foldedOf(server.store, merged));
    expect(stacks.some((s) => s.includes('burnHotpathCpu'))).toBe(true);
  });
});
