// ingest, query and export against a real Hotpath server (startServer in this process, memory
// store, 127.0.0.1 on a free port), driven through the real CLI as subprocesses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPprof } from '@hotpath/core';
import { startServer, type RunningServer } from '@hotpath/server';
import { FIXTURES, runCli } from './run-cli.ts';

const CPU_FILE = join(FIXTURES, 'go-cpu.pb.gz');
const CPU_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const QUERY = `${CPU_TYPE}{service_name="cli-test"}`;
const HAS_GO = spawnSync('go', ['version']).status === 0;

// The fixture carries its own time; the window is wide open so an old fixture is still accepted.
const fixtureMs = Math.floor(
  importPprof(new Uint8Array(gunzipSync(readFileSync(CPU_FILE)))).profiles[0]!.timeNs / 1e6,
);
const FROM = String(fixtureMs - 3_600_000);
const UNTIL = String(fixtureMs + 3_600_000);

let server: RunningServer;
const tmp = mkdtempSync(join(tmpdir(), 'hotpath-cli-server-'));

beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    store: 'memory',
    logger: false,
    limits: { rejectOlderThanMs: 10 * 365 * 86_400_000 },
  });
  const up = await runCli([
    'ingest',
    CPU_FILE,
    '--server',
    server.url,
    '--app',
    'cli-test',
    '--tags',
    'region=eu',
  ]);
  if (up.code !== 0) throw new Error(`ingest failed: ${up.stderr}`);
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('hotpath ingest', () => {
  it('uploaded the pprof as one series per sample type with the tags', async () => {
    const res = await fetch(`${server.url}/querier.v1.QuerierService/Series`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: ['{service_name="cli-test"}'], start: FROM, end: UNTIL }),
    });
    const body = (await res.json()) as { labelsSet?: { labels: { name: string; value: string }[] }[] };
    const types = (body.labelsSet ?? [])
      .map((s) => s.labels.find((l) => l.name === '__profile_type__')?.value)
      .sort();
    expect(types).toEqual([CPU_TYPE, 'process_cpu:samples:count:cpu:nanoseconds']);
    for (const s of body.labelsSet ?? []) expect(s.labels).toContainEqual({ name: 'region', value: 'eu' });
  });

  it('uploads folded text as APP.cpu, which the server stores as cpu nanoseconds at 100 Hz', async () => {
    const file = join(tmp, 'stacks.folded');
    writeFileSync(file, 'main;work 3\nmain;idle 1\n');
    const up = await runCli([
      'ingest',
      file,
      '--server',
      server.url,
      '--app',
      'folded-app',
      '--tags',
      'env=dev',
    ]);
    expect(up.stderr).toMatch(/as folded-app\.cpu\{env=dev\}/);
    expect(up.code).toBe(0);
    const q = await runCli([
      'query',
      '--server',
      server.url,
      '--query',
      `${CPU_TYPE}{service_name="folded-app",env="dev"}`,
      '--from',
      'now-1h',
      '--until',
      'now',
      '--format',
      'folded',
    ]);
    expect(q.stdout.trim().split('\n').sort()).toEqual(['main;idle 10000000', 'main;work 30000000']);
  });

  it('uploads speedscope JSON with format=speedscope', async () => {
    const file = join(tmp, 'cpu.speedscope.json');
    const conv = await runCli(['convert', CPU_FILE, '--to', 'speedscope', '-o', file]);
    expect(conv.code).toBe(0);
    const up = await runCli(['ingest', file, '--server', server.url, '--app', 'speedscope-app']);
    expect(up.stderr).toMatch(/\(speedscope, \d+ bytes\) as speedscope-app\{\}/);
    expect(up.code).toBe(0);
    const res = await fetch(`${server.url}/querier.v1.QuerierService/Series`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: ['{service_name="speedscope-app"}'],
        start: String(Date.now() - 3_600_000),
        end: String(Date.now() + 60_000),
      }),
    });
    const body = (await res.json()) as { labelsSet?: unknown[] };
    expect(body.labelsSet?.length).toBeGreaterThan(0);
  });

  it('fails with the server unreachable, naming it', async () => {
    const dead = await runCli(['ingest', CPU_FILE, '--server', 'http://127.0.0.1:9', '--app', 'x']);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});

describe('hotpath query', () => {
  it('prints the same top table as the file itself', async () => {
    const [viaServer, viaFile] = await Promise.all([
      runCli([
        'query',
        '--server',
        server.url,
        '--query',
        QUERY,
        '--from',
        FROM,
        '--until',
        UNTIL,
        '--top',
        '0',
      ]),
      runCli(['top', CPU_FILE, '--n', '0']),
    ]);
    expect(viaServer.stderr).toBe('');
    expect(viaServer.code).toBe(0);
    expect(viaServer.stdout).toContain('670ms 44.67% 44.67% 670ms 44.67%  crypto/sha256.block');
    expect(viaServer.stdout).toBe(viaFile.stdout);
  });

  it('prints the flamebearer JSON and folded stacks', async () => {
    const [fb, folded] = await Promise.all([
      runCli([
        'query',
        '--server',
        server.url,
        '--query',
        QUERY,
        '--from',
        FROM,
        '--until',
        UNTIL,
        '--format',
        'flamebearer',
      ]),
      runCli([
        'query',
        '--server',
        server.url,
        '--query',
        QUERY,
        '--from',
        FROM,
        '--until',
        UNTIL,
        '--format',
        'folded',
      ]),
    ]);
    const doc = JSON.parse(fb.stdout) as { flamebearer: { numTicks: number; names: string[] } };
    expect(doc.flamebearer.numTicks).toBe(1_500_000_000);
    expect(doc.flamebearer.names[0]).toBe('total');
    const lines = folded.stdout.trim().split('\n');
    expect(lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)).toBe(1_500_000_000);
  });

  it('reports a server-side rejection with its status', async () => {
    const r = await runCli([
      'query',
      '--server',
      server.url,
      '--query',
      `${CPU_TYPE}{service_name=~"(}`,
      '--from',
      FROM,
      '--until',
      UNTIL,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/server answered 400/);
  });
});

describe('hotpath export', () => {
  it('downloads the merged profile as pprof that reads back to the same top table', async () => {
    const out = join(tmp, 'export.pb.gz');
    const r = await runCli([
      'export',
      '--server',
      server.url,
      '--query',
      QUERY,
      '--from',
      FROM,
      '--until',
      UNTIL,
      '-o',
      out,
    ]);
    expect(r.stderr).toMatch(/wrote .*export\.pb\.gz \(pprof, \d+ samples\)/);
    expect(r.code).toBe(0);
    const [again, original] = await Promise.all([
      runCli(['top', out, '--raw', '--n', '0']),
      runCli(['top', CPU_FILE, '--raw', '--n', '0']),
    ]);
    expect(again.stdout).toBe(original.stdout);
  });

  it.skipIf(!HAS_GO)('writes pprof that go tool pprof reads', async () => {
    const out = join(tmp, 'export-go.pb.gz');
    await runCli([
      'export',
      '--server',
      server.url,
      '--query',
      QUERY,
      '--from',
      FROM,
      '--until',
      UNTIL,
      '-o',
      out,
    ]);
    const go = spawnSync('go', ['tool', 'pprof', '-top', '-unit=ns', out], { encoding: 'utf8' });
    expect(go.status).toBe(0);
    expect(go.stdout).toMatch(/670000000ns 44\.67% 44\.67% 670000000ns 44\.67%\s+crypto\/sha256\.block/);
  });

  it('writes folded stacks of the merged profile', async () => {
    const r = await runCli([
      'export',
      '--server',
      server.url,
      '--query',
      QUERY,
      '--from',
      FROM,
      '--until',
      UNTIL,
      '--to',
      'folded',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)).toBe(1_500_000_000);
  });
});
