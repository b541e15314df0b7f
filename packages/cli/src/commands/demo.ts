// `hotpath demo`: the rideshare demo on this machine (a hotpath server, three region apps, a load
// generator), each child in its own process group; Ctrl-C stops every one of them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { installLayout } from '../layout.ts';
import { slowAndFastDiffLink, slowAndFastReadyAtMs } from '../demo-links.ts';

const { root: REPO, hotpathBin: HOTPATH_BIN } = installLayout();
const RIDESHARE = join(REPO, 'examples', 'rideshare');
const REGIONS = ['us-east', 'eu-north', 'ap-south'] as const;
const APP_NAME = 'ride-sharing-app';

/** What each server variant needs from the Python interpreter, and the Debian packages that provide it. */
const FRAMEWORKS = {
  stdlib: { modules: [], apt: 'python3' },
  flask: { modules: ['flask'], apt: 'python3-flask' },
  fastapi: { modules: ['fastapi', 'uvicorn'], apt: 'python3-fastapi python3-uvicorn' },
  django: { modules: ['django', 'gunicorn'], apt: 'python3-django gunicorn' },
} as const;
type Framework = keyof typeof FRAMEWORKS;

// Debian's interpreter first: it sees the python3-* packages, which a python3 earlier on PATH may not.
const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];
// Long enough for an app's profiler to upload its last window after SIGTERM (the SDK waits up to 5 s).
const STOP_GRACE_MS = 8_000;
const START_TIMEOUT_MS = 60_000;

const HELP = `Usage: hotpath demo [options]

Starts the rideshare demo: a hotpath server, the three regions (us-east, eu-north, ap-south) of
examples/rideshare and a load generator, then prints the UI address. Ctrl-C stops everything.

Options:
  --port N           server port (default 4040; 0 picks a free port)
  --data-dir DIR     server data directory (default ./data)
  --store KIND       duckdb (default, embedded) or memory
  --framework NAME   stdlib (default), flask, fastapi or django (env FRAMEWORK)
  --python PATH      the Python interpreter for the apps (default: the first of ${PYTHON_CANDIDATES.join(', ')}
                     that can import the framework)
  --rate N           rides per second sent by the load generator (default 2, env RIDESHARE_RATE)

Environment passed to the apps: RIDESHARE_PERIOD_S (eu-north's slow/fast period, default 60),
RIDESHARE_WORK_SCALE (busy-loop factor, default 1), HOTPATH_UPLOAD_INTERVAL (seconds, default 10).
`;

interface DemoOptions {
  port: number;
  dataDir: string;
  store: string | undefined;
  framework: Framework;
  python: string | undefined;
  rate: number;
}

class UsageError extends Error {}
/** Thrown into the start-up sequence when Ctrl-C (or a child's exit) asks the demo to stop. */
class StopRequested extends Error {}

function parseOptions(argv: string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4040' },
      'data-dir': { type: 'string', default: 'data' },
      store: { type: 'string' },
      framework: { type: 'string', default: process.env.FRAMEWORK || 'stdlib' },
      python: { type: 'string' },
      rate: { type: 'string', default: process.env.RIDESHARE_RATE || '2' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got '${values.port}'`);
  const rate = Number(values.rate);
  if (!(rate > 0))
    throw new UsageError(`--rate must be a number of rides per second > 0, got '${values.rate}'`);
  const framework = values.framework as string;
  if (!(framework in FRAMEWORKS)) {
    throw new UsageError(
      `unknown framework '${framework}'; expected one of ${Object.keys(FRAMEWORKS).join(', ')}`,
    );
  }
  if (values.store !== undefined && values.store !== 'duckdb' && values.store !== 'memory') {
    throw new UsageError(`--store must be duckdb or memory, got '${values.store}'`);
  }
  return {
    port,
    dataDir: resolve(values['data-dir'] as string),
    store: values.store,
    framework: framework as Framework,
    python: values.python,
    rate,
  };
}

/** The first interpreter that can import the framework's modules, or a message saying what to install. */
export function findPython(
  framework: Framework,
  candidates: string[],
): { python: string } | { problem: string } {
  const { modules, apt } = FRAMEWORKS[framework];
  const probe =
    'import importlib.util, sys\n' +
    'if sys.version_info < (3, 9): print("Python >= 3.9 needed, this is " + sys.version.split()[0]); sys.exit(0)\n' +
    'missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]\n' +
    'print("cannot import " + ", ".join(missing) if missing else "")';
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', probe, ...modules], { encoding: 'utf8', timeout: 20_000 });
    if (r.error !== undefined || r.status !== 0) {
      tried.push(`  ${python}: ${r.error ? 'not found' : `exited with ${r.status}`}`);
      continue;
    }
    const complaint = r.stdout.trim();
    if (complaint === '') return { python };
    tried.push(`  ${python}: ${complaint}`);
  }
  const needs = modules.length > 0 ? `the Python modules ${modules.join(', ')}` : 'Python 3.9 or later';
  return {
    problem:
      `FRAMEWORK=${framework} needs ${needs}, and no interpreter tried has them:\n${tried.join('\n')}\n` +
      `On Debian or Ubuntu: sudo apt-get install ${apt}   (Debian's /usr/bin/python3 then sees them)\n` +
      (framework === 'stdlib'
        ? ''
        : 'Or run the default FRAMEWORK=stdlib, which needs nothing but python3.\n') +
      'Or name an interpreter that has them: hotpath demo --python /path/to/python3',
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A sleep that does not keep the process alive on its own. */
const graceTimer = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** The demo's children: each in its own process group, output forwarded line by line with its name. */
class Children {
  private readonly running = new Map<string, ChildProcess>();
  /** Set when a child exits while the demo is still running: the demo then stops. */
  onUnexpectedExit: (name: string, code: number | null, signal: string | null) => void = () => {};
  private stopping = false;

  start(name: string, command: string, args: string[], env: Record<string, string>): ChildProcess {
    const child = spawn(command, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      detached: true, // its own process group, so a stop reaches its children (gunicorn workers) too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
      });
    }
    child.on('exit', (code, signal) => {
      this.running.delete(name);
      if (!this.stopping) this.onUnexpectedExit(name, code, signal);
    });
    child.on('error', (e) => {
      // could not be started (or signalled): report it like an exit rather than crash the demo
      this.running.delete(name);
      if (!this.stopping) this.onUnexpectedExit(name, null, e.message);
    });
    this.running.set(name, child);
    return child;
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Stops the named children together: SIGTERM to each group, SIGKILL to what is left after the grace period. */
  async stop(names: string[]): Promise<void> {
    this.stopping = true;
    const stops = names.flatMap((name) => {
      const child = this.running.get(name);
      if (child?.pid === undefined) return [];
      const pid = child.pid;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      signalGroup(pid, 'SIGTERM');
      return [
        Promise.race([exited, graceTimer(STOP_GRACE_MS)]).then(() => {
          signalGroup(pid, 'SIGKILL'); // the leader's own children if they outlived it, or a leader that ignored SIGTERM
          return exited;
        }),
      ];
    });
    await Promise.all(stops);
  }

  async stopAll(order: string[][]): Promise<void> {
    for (const names of order) await this.stop(names);
    await this.stop([...this.running.keys()]);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

async function waitUntil(what: string, isUp: () => Promise<boolean>, isDead: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await isUp())) {
    if (isDead()) throw new Error(`${what} exited before it was ready (see its output above)`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${START_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
}

/** Local HH:MM:SS. */
function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

function guide(
  ui: string,
  regions: Record<string, string>,
  framework: Framework,
  python: string,
  rate: number,
  periodS: number,
  linkAtMs: number,
): string {
  const unit = periodS === 60 ? 'minute' : `${periodS} s period`;
  const phase = periodS === 60 ? 'every other minute (even minutes are slow)' : `every other ${unit}`;
  return `
Hotpath demo is running: ${APP_NAME} in three regions (${framework}, ${python}), ${rate} rides/s.

  UI        ${ui}
  regions   ${Object.entries(regions)
    .map(([r, url]) => `${r} ${url}`)
    .join('   ')}

What to look at (give it a minute or two to collect):
  1. Flame graph of ${APP_NAME}, process_cpu: order_car is the widest of order_bike, order_scooter, order_car.
       ${ui}?service=${APP_NAME}&from=now-15m
  2. Tag explorer, group by region: eu-north swings between high and low CPU ${phase}.
       ${ui}explore?service=${APP_NAME}&groupBy=region&from=now-15m
  3. find_nearest_vehicle holds most of the CPU; group by vehicle to see which rides cost most.
  4. Comparison and diff: eu-north in a fast ${unit} against a slow one; mutex_lock is the change.
       The link, with the two ${unit}s on one timeline, follows here at ${clock(linkAtMs)}, once both are recorded.
  5. memory:inuse_space: the vehicle pools (allocate_vehicle_memory) grow and are trimmed.

Press Ctrl-C to stop everything the demo started.
`;
}

async function runDemo(options: DemoOptions): Promise<number> {
  const found = findPython(options.framework, options.python ? [options.python] : PYTHON_CANDIDATES);
  if ('problem' in found) {
    process.stderr.write(`hotpath demo: ${found.problem}\n`);
    return 2;
  }
  const port = options.port === 0 ? await freePort() : options.port;
  if (!(await portIsFree(port))) {
    process.stderr.write(
      `hotpath demo: port ${port} is in use; stop what uses it or pass --port 0 for any free port\n`,
    );
    return 2;
  }

  const children = new Children();
  let failure: string | undefined;
  let wake: () => void = () => {};
  const stopRequested = new Promise<never>((_, reject) => (wake = () => reject(new StopRequested())));
  stopRequested.catch(() => {}); // observed below; this only keeps it from counting as unhandled
  const onSignal = () => wake();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  children.onUnexpectedExit = (name, code, signal) => {
    failure = `${name} exited (${signal ?? `code ${code}`}) while the demo was running`;
    wake();
  };

  const ui = `http://127.0.0.1:${port}`;
  let linkTimer: ReturnType<typeof setTimeout> | undefined;
  const appNames = REGIONS.map((r) => `${options.framework}-${r}`);
  try {
    const serverArgs = [
      HOTPATH_BIN,
      'server',
      '--port',
      String(port),
      '--data-dir',
      options.dataDir,
      '--log-level',
      'warn',
    ];
    if (options.store !== undefined) serverArgs.push('--store', options.store);
    children.start('hotpath', process.execPath, serverArgs, {});
    await Promise.race([
      waitUntil(
        'hotpath server',
        () => answers(`${ui}/ready`),
        () => !children.isRunning('hotpath'),
      ),
      stopRequested,
    ]);

    const regions: Record<string, string> = {};
    for (const [i, region] of REGIONS.entries()) {
      const appPort = await freePort();
      regions[region] = `http://127.0.0.1:${appPort}`;
      children.start(appNames[i]!, found.python, [join(RIDESHARE, `${options.framework}_server.py`)], {
        REGION: region,
        RIDESHARE_LISTEN_PORT: String(appPort),
        HOTPATH_SERVER_ADDRESS: ui,
        HOTPATH_APPLICATION_NAME: APP_NAME,
      });
    }
    await Promise.race([
      Promise.all(
        REGIONS.map((region, i) =>
          waitUntil(
            appNames[i]!,
            () => answers(`${regions[region]}/`),
            () => !children.isRunning(appNames[i]!),
          ),
        ),
      ),
      stopRequested,
    ]);

    const targets = Object.entries(regions).map(([r, url]) => `${r}=${url}`);
    children.start(
      'load',
      found.python,
      [join(RIDESHARE, 'load_generator.py'), '--targets', targets.join(','), '--rate', String(options.rate)],
      {},
    );
    const periodS = Number(process.env.RIDESHARE_PERIOD_S || 60);
    const uploadS = Number(process.env.HOTPATH_UPLOAD_INTERVAL || 10);
    const linkAtMs = slowAndFastReadyAtMs(Date.now(), periodS, uploadS);
    process.stdout.write(
      guide(`${ui}/`, regions, options.framework, found.python, options.rate, periodS, linkAtMs),
    );
    linkTimer = setTimeout(
      () =>
        process.stdout.write(
          `\n  4. eu-north, a fast period (baseline) against a slow one (comparison):\n       ${slowAndFastDiffLink(`${ui}/`, APP_NAME, Date.now(), periodS)}\n\n`,
        ),
      linkAtMs - Date.now(),
    );
    await stopRequested;
  } catch (e) {
    if (!(e instanceof StopRequested)) failure = (e as Error).message;
  } finally {
    clearTimeout(linkTimer);
    process.stdout.write('\nhotpath demo: stopping the load generator, the apps and the server...\n');
    // Load first, then the apps (their profilers upload a last window), the server last.
    await children.stopAll([['load'], appNames, ['hotpath']]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (failure !== undefined) {
    process.stderr.write(`hotpath demo: ${failure}\n`);
    return 1;
  }
  process.stdout.write('hotpath demo: stopped; nothing it started is left running.\n');
  return 0;
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the rideshare demo: server, three region apps and load; Ctrl-C stops it',
  async run(argv) {
    let options: DemoOptions | 'help';
    try {
      options = parseOptions(argv);
    } catch (e) {
      process.stderr.write(
        `hotpath demo: ${(e as Error).message}\nRun 'hotpath demo --help' for the options.\n`,
      );
      return 2;
    }
    if (options === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    return runDemo(options);
  },
};
