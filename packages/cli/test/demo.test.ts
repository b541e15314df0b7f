// `hotpath demo` end to end: it starts the real server, the three rideshare apps and the load
// generator, the apps' profiles arrive, and Ctrl-C (SIGINT) leaves none of its processes running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { demo, findPython } from '../src/commands/demo.ts';
import { commands } from '../src/commands/index.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const HOTPATH_BIN = fileURLToPath(new URL('../bin/hotpath.js', import.meta.url));
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);
const SDK_PRESENT = spawnSync('test', ['-f', `${REPO}sdk/python/hotpath/__init__.py`]).status === 0;

const skipReason =
  commands.server === undefined
    ? 'the CLI has no `server` command yet'
    : PYTHON === undefined
      ? 'no python3 found (/usr/bin/python3 or python3 on PATH)'
      : !SDK_PRESENT
        ? 'the Python SDK (sdk/python/hotpath) is not in this checkout'
        : undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Every live descendant of pid, from /proc (pid -> parent pid). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state, ppid, ...
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we were reading
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has exited; only its parent has not collected it yet.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('hotpath demo: refusing to start', () => {
  it('names the Debian packages when no interpreter can import the framework', () => {
    const found = findPython('django', ['/bin/false']);
    expect('problem' in found && found.problem).toMatch(/FRAMEWORK=django needs the Python modules django, gunicorn/);
    expect('problem' in found && found.problem).toContain('apt-get install python3-django gunicorn');
  });

  it.skipIf(PYTHON === undefined)('picks an interpreter that can run the stdlib variant', () => {
    expect(findPython('stdlib', ['/nonexistent/python3', PYTHON!])).toEqual({ python: PYTHON });
  });

  it('rejects an unknown framework with exit code 2', async () => {
    expect(await demo.run(['--framework', 'cobol'])).toBe(2);
  });
});

describe.skipIf(skipReason !== undefined)(`hotpath demo: a real run${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let child: ChildProcess | undefined;
  let seen: number[] = [];

  afterEach(() => {
    // Whatever happened above, nothing of this test survives it.
    for (const pid of [...seen, ...(child?.pid ? [child.pid] : [])]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // not a group leader, or already gone
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('serves three profiled regions and stops every process it started on SIGINT', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [HOTPATH_BIN, 'demo', '--port', String(port), '--store', 'memory', '--rate', '4'], {
      cwd: REPO,
      env: { ...process.env, RIDESHARE_WORK_SCALE: '0.05', HOTPATH_UPLOAD_INTERVAL: '1', FRAMEWORK: 'stdlib' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    const ui = `http://127.0.0.1:${port}/`;
    await until('the demo to print its UI address', async () => (output.includes(`UI        ${ui}`) ? true : undefined), 60_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${output}`);
      },
    );
    expect(output).toContain('What to look at');

    const regions = await until(
      'profiles from the three regions',
      async () => {
        const response = await fetch(`${ui}querier.v1.QuerierService/LabelValues`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'region',
            matchers: ['{service_name="ride-sharing-app"}'],
            start: String(Date.now() - 120_000),
            end: String(Date.now() + 60_000),
          }),
        });
        const names = ((await response.json()) as { names?: string[] }).names ?? [];
        return names.length === 3 ? names : undefined;
      },
      30_000,
    );
    expect([...regions].sort()).toEqual(['ap-south', 'eu-north', 'us-east']);

    seen = descendants(child.pid!);
    // The server, three apps and the load generator at least.
    expect(seen.length).toBeGreaterThanOrEqual(5);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('hotpath demo: stopped');
    expect(seen.filter(isAlive)).toEqual([]);
  }, 120_000);
});
