// A Python stdlib script (fixtures/push_like_pyroscope_io.py) sends a Connect Push byte for byte as
// pyroscope-io ≥ 1.0 does (gzip PushRequest, application/proto) to a real listening server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLabel } from '@hotpath/core';
import { startServer, type RunningServer } from '../src/main.ts';
import { foldedOf } from '../src/store/conformance.ts';

const SCRIPT = new URL('./fixtures/push_like_pyroscope_io.py', import.meta.url).pathname;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

describe('pyroscope-io Push wire format → Hotpath', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-python-'));
    server = await startServer({ port: 0, dataDir: dir, logger: false, groupCommit: { intervalMs: 20 } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the push (200) and stores the profile with its labels, totals and frames', async () => {
    // Asynchronous: the server runs in this process and must keep serving while the script waits.
    const r = await promisify(execFile)(
      PYTHON,
      [SCRIPT, `http://127.0.0.1:${server.port}`, 'ride-sharing-app', 'py-tenant'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.stderr).toBe('');
    const m = /status (\d+) total (\d+) start (\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBe(200);
    const startMs = Number(m![3]) * 1000;
    const range = { startMs, endMs: startMs };
    const merged = await server.store.mergeStacks({
      tenant: 'py-tenant',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: 'ride-sharing-app' }],
      ...range,
    });
    expect(merged.values.reduce((a, b) => a + b, 0)).toBe(Number(m![2]));
    expect(await foldedOf(server.store, merged)).toEqual({
      '<module>;handle;slow_function': 300_000_000,
      '<module>;handle;fast_function': 120_000_000,
      '<module>;handle;json.dumps': 30_000_000,
    });
    const series = await server.store.series({
      tenant: 'py-tenant',
      selectors: [[{ name: 'vehicle', op: '=', value: 'car' }]],
      ...range,
    });
    expect(series).toHaveLength(1);
    expect(getLabel(series[0]!, 'thread_name')).toBe('MainThread');
    expect(getLabel(series[0]!, 'region')).toBe('eu-north');
    expect(getLabel(series[0]!, 'otel.scope.name')).toBe('pyroscope');
    expect(
      await server.store.labelValues({ tenant: 'anonymous', selectors: [], name: 'service_name', ...range }),
    ).toEqual([]);
  });
});
