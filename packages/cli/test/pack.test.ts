// The artifacts a user installs (scripts/pack.mjs, `make pack`), used as a user would: the npm tarball
// installs into an empty folder, and its compiled `hotpath` (no tsx, no repository beside it) serves the
// UI, ingests, queries, builds flame graphs on its worker thread and runs the demo; the SDK wheel installs
// with pip into a clean virtual environment and profiles a program into that server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolded, toFlamebearer } from '@hotpath/core';
import { freePort } from '../src/commands/demo.ts';
import { PYTHON, REPO, regionsSeen, startDemo, until, type RunningDemo } from './demo-run.ts';

const work = mkdtempSync(join(tmpdir(), 'hotpath-pack-'));
const app = join(work, 'app');
const packed = join(app, 'node_modules', 'hotpath');
const bin = join(packed, 'dist', 'hotpath.mjs');
let tarball = '';
let wheel = '';
let server: ChildProcess | undefined;
let demo: RunningDemo | undefined;
let url = '';

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  const outputs = run(process.execPath, [join(REPO, 'scripts', 'pack.mjs')], REPO)
    .trim()
    .split('\n');
  tarball = outputs.find((l) => l.endsWith('.tgz'))!;
  wheel = outputs.find((l) => l.endsWith('.whl'))!;
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), '{"name":"an-app","private":true}\n');
  // The registry's packages come from npm's cache when the repository's install put them there.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(
    process.execPath,
    [bin, 'server', '--port', String(port), '--data-dir', join(work, 'data')],
    {
      cwd: app,
      stdio: 'ignore',
    },
  );
  await until(
    'the packed server to be ready',
    async () => ((await get('/ready'))?.ok ? true : undefined),
    60_000,
  );
}, 420_000);

afterAll(() => {
  demo?.kill();
  server?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}, 60_000);

async function get(path: string): Promise<Response | undefined> {
  try {
    return await fetch(url + path, { signal: AbortSignal.timeout(5_000) });
  } catch {
    return undefined;
  }
}

async function flameNames(query: string): Promise<string[]> {
  const response = await get(
    `/pyroscope/render?query=${encodeURIComponent(query)}&from=now-1h&until=now&format=json`,
  );
  if (!response?.ok) return [];
  return ((await response.json()) as { flamebearer?: { names?: string[] } }).flamebearer?.names ?? [];
}

describe('the npm package', () => {
  it('runs compiled JavaScript, without tsx', () => {
    expect(existsSync(join(packed, 'dist', 'flame-worker.mjs'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    const help = run(join(app, 'node_modules', '.bin', 'hotpath'), ['--help'], app);
    expect(help).toMatch(/^\s+server\s/m);
    expect(help).toMatch(/^\s+demo\s/m);
  });

  it('serves the built UI and ingests and answers queries', async () => {
    const page = await (await get('/'))!.text();
    expect(page).toContain('<script');
    expect(page).not.toContain('not built yet');

    const ingest = await fetch(`${url}/ingest?name=packed.app.cpu&format=folded&spyName=pyspy`, {
      method: 'POST',
      body: 'main;serve;handle 30\nmain;serve;parse 12\n',
    });
    expect(ingest.status).toBe(200);
    const names = await until(
      'the ingested profile',
      async () => {
        const n = await flameNames('process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="packed.app"}');
        return n.length > 0 ? n : undefined;
      },
      30_000,
    );
    expect(names).toEqual(expect.arrayContaining(['main', 'serve', 'handle', 'parse']));
  });

  it('builds flame graphs on its compiled worker thread', async () => {
    const profile = importFolded(
      new TextEncoder().encode(
        Array.from({ length: 3000 }, (_, i) => `main;mod${i % 30};leaf${i} ${1 + (i % 7)}`).join('\n'),
      ),
    ).profiles[0]!;
    const worker = new Worker(join(packed, 'dist', 'flame-worker.mjs'));
    try {
      const answer = new Promise<{ result?: unknown; error?: string }>((resolve, reject) => {
        worker.on('message', (m: { ready?: true; result?: unknown; error?: string }) => {
          if (m.ready) worker.postMessage({ id: 1, left: profile, maxNodes: 500 });
          else resolve(m);
        });
        worker.on('error', reject);
      });
      expect((await answer).result).toEqual(toFlamebearer(profile, { maxNodes: 500 }));
    } finally {
      await worker.terminate();
    }
  });

  it.skipIf(PYTHON === undefined)(
    'runs the demo from the package: three profiled regions',
    async () => {
      demo = await startDemo(
        ['--rate', '4'],
        { RIDESHARE_WORK_SCALE: '0.05', HOTPATH_UPLOAD_INTERVAL: '1' },
        { bin, cwd: app },
      );
      const regions = await until(
        'profiles from the three regions',
        async () => {
          const seen = await regionsSeen(demo!.ui);
          return seen.length === 3 ? seen : undefined;
        },
        60_000,
      );
      expect(regions).toEqual(['ap-south', 'eu-north', 'us-east']);
      expect(await demo.interrupt()).toBe(0);
      demo = undefined;
    },
    180_000,
  );
});

describe('the Python SDK wheel', () => {
  it.skipIf(PYTHON === undefined)(
    'installs with pip into a clean virtual environment and profiles into the packed server',
    async () => {
      const venv = join(work, 'venv');
      run(PYTHON!, ['-m', 'venv', venv], work);
      run(join(venv, 'bin', 'pip'), ['install', '--no-index', '--quiet', wheel], work);
      const program = [
        'import hotpath, sys, time',
        `assert hotpath.__file__.startswith(${JSON.stringify(venv)}), hotpath.__file__`,
        `hotpath.configure(application_name="wheel.app", server_address=${JSON.stringify(url)}, upload_interval=1)`,
        'def spin_in_wheel(until):',
        '    n = 0',
        '    while time.monotonic() < until: n += 1',
        'spin_in_wheel(time.monotonic() + 2.5)',
        'sys.exit(0 if hotpath.shutdown() else 3)',
      ].join('\n');
      // Run from the work folder, so the repository's sdk/python cannot be what is imported.
      run(join(venv, 'bin', 'python'), ['-c', program], work, 60_000);
      const names = await until(
        "the wheel's profile",
        async () => {
          const n = await flameNames('process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="wheel.app"}');
          return n.some((name) => name.startsWith('spin_in_wheel ')) ? n : undefined;
        },
        30_000,
      );
      expect(names).toContainEqual(expect.stringMatching(/^spin_in_wheel \(<string>:\d+\)$/));
    },
    120_000,
  );
});
