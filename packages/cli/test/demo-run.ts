// Runs `hotpath demo` as a real child process for the demo tests, and finds the processes it started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/commands/demo.ts';
import { commands } from '../src/commands/index.ts';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const HOTPATH_BIN = fileURLToPath(new URL('../bin/hotpath.js', import.meta.url));
export const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);

/** Why `hotpath demo` cannot run here, or undefined when it can. */
export const demoSkipReason: string | undefined =
  commands.server === undefined
    ? 'the CLI has no `server` command yet'
    : PYTHON === undefined
      ? 'no python3 found (/usr/bin/python3 or python3 on PATH)'
      : !existsSync(`${REPO}sdk/python/hotpath/__init__.py`)
        ? 'the Python SDK (sdk/python/hotpath) is not in this checkout'
        : undefined;

export interface RunningDemo {
  readonly child: ChildProcess;
  /** The UI address the demo printed, with a trailing slash. */
  readonly ui: string;
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
  /** SIGKILL to the demo and to every process group it started; for cleanup after a failure. */
  kill(): void;
}

/** Starts `hotpath demo --port <free> --store memory` and waits until it prints its UI address;
 * `bin` runs another `hotpath` (the packed one) from `cwd`. */
export async function startDemo(
  args: string[],
  env: Record<string, string>,
  { bin = HOTPATH_BIN, cwd = REPO }: { bin?: string; cwd?: string } = {},
): Promise<RunningDemo> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'demo', '--port', String(port), '--store', 'memory', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ui = `http://127.0.0.1:${port}/`;
  const seen = new Set<number>();
  const demo: RunningDemo = {
    child,
    ui,
    output: () => output,
    interrupt: () => {
      child.kill('SIGINT');
      return exited;
    },
    kill: () => {
      for (const pid of [...seen, ...descendants(child.pid!), child.pid!]) {
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // not a group leader, or already gone
          }
        }
      }
    },
  };
  try {
    await until(
      'the demo to print its UI address',
      async () => {
        for (const pid of descendants(child.pid!)) seen.add(pid);
        if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}`);
        return output.includes(`UI        ${ui}`) ? true : undefined;
      },
      90_000,
    );
  } catch (e) {
    demo.kill();
    throw new Error(`${(e as Error).message}\n${output}`);
  }
  return demo;
}

/** Every live descendant of pid, from /proc (pid -> parent pid). */
export function descendants(pid: number): number[] {
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie has exited; only its parent has not collected it yet.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The region label values the server has for the demo's app over the last two minutes. */
export async function regionsSeen(ui: string): Promise<string[]> {
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
  return [...(((await response.json()) as { names?: string[] }).names ?? [])].sort();
}

/** Whether the server has CPU samples of `region` handling rides (an order_* frame) in the last 20 s. */
export async function servesRides(ui: string, region: string): Promise<boolean> {
  const query = encodeURIComponent(
    `process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="ride-sharing-app",region="${region}"}`,
  );
  const response = await fetch(`${ui}pyroscope/render?query=${query}&from=now-20s&until=now&format=json`);
  if (!response.ok) return false;
  const names = ((await response.json()) as { flamebearer?: { names?: string[] } }).flamebearer?.names ?? [];
  return names.some((n) => n.startsWith('order_'));
}
