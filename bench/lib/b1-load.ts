// The B1 ingest load, shared by b1-ingest.bench.ts, b1-ingest-clickhouse.bench.ts and
// b10-freshness.bench.ts: the seeded payload shapes, a real startServer process to send them to, and
// concurrent client loops. Run with `--serve <options JSON>` it is that server process.
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodePprof, makeProfileType, ProfileBuilder } from '@hotpath/core';
import { ProtoWriter } from '../../packages/server/src/connect/wire.ts';
import { rng } from './rng.ts';

const PY_CPU = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');

/** "python" shape: ~200 stacks × 5 thread_name values = 1,000 samples; values count × 10 ms. */
export function pythonShapePprof(seed: number, timeMs: number): { bytes: Uint8Array; samples: number } {
  const r = rng(seed);
  const b = new ProfileBuilder([PY_CPU], { timeNs: timeMs * 1e6, durationNs: 10e9, period: 10_000_000 });
  const fns = Array.from({ length: 300 }, (_, i) =>
    b.frame(`app.module_${i % 40}.function_${i}`, `/srv/app/module_${i % 40}.py`, 10 + (i % 90)),
  );
  const threads = Array.from({ length: 5 }, (_, i) =>
    b.labelSet([{ name: 'thread_name', value: `worker-${i}` }]),
  );
  let samples = 0;
  for (let s = 0; s < 200; s++) {
    const depth = 20 + Math.floor(r() * 21);
    const frames = [fns[0]!, ...Array.from({ length: depth - 1 }, () => fns[1 + Math.floor(r() * 299)]!)];
    const stack = b.stackOf(frames);
    for (const t of threads) {
      b.sample(stack, [(1 + Math.floor(r() * 20)) * 10_000_000], t);
      samples++;
    }
  }
  return { bytes: encodePprof(b.build()), samples };
}

/** "wide" shape: 8,000 distinct stacks of depth ~40 over 40,000 long symbols (JVM-like names). */
export function wideShapePprof(seed: number, timeMs: number): { bytes: Uint8Array; samples: number } {
  const r = rng(seed);
  const hex = () =>
    Math.floor(r() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  const b = new ProfileBuilder([PY_CPU], { timeNs: timeMs * 1e6, durationNs: 10e9, period: 10_000_000 });
  const fns = Array.from({ length: 40_000 }, (_, i) =>
    b.frame(
      `com.example.service.generated.pkg${i % 97}.Handler${hex()}${hex()}$$Lambda$${hex()}.invoke${hex()}${hex()}(Lcom/example/Request;)V`,
      `com/example/service/generated/pkg${i % 97}/Handler${hex()}.java`,
      1 + (i % 400),
    ),
  );
  for (let s = 0; s < 8000; s++) {
    const depth = 30 + Math.floor(r() * 21);
    const frames = Array.from({ length: depth }, () => fns[Math.floor(r() * fns.length)]!);
    b.sample(b.stackOf(frames), [(1 + Math.floor(r() * 5)) * 10_000_000]);
  }
  return { bytes: encodePprof(b.build()), samples: 8000 };
}

/** PushRequest bytes with one series and one raw sample. */
export function pushBody(labels: Record<string, string>, pprof: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (sw) => {
    for (const [name, value] of Object.entries(labels))
      sw.message(1, (lw) => lw.string(1, name).string(2, value));
    sw.message(2, (rw) => rw.bytes(1, pprof).string(2, '0b4e5ae0-7d7c-4f0e-9a57-8d5b6f1b2c3d'));
  });
  return w.finish();
}

export interface Shape {
  name: string;
  /** Target, samples/s per server core (BENCHMARKS.md). */
  target: number;
  /** The pprof profiles to send, with their sample counts. */
  make: () => { bytes: Uint8Array; samples: number }[];
  /** A sender of body `i % bodies.length` to the server on `port`; resolves to the HTTP status. */
  send: (port: number, bodies: Uint8Array<ArrayBuffer>[]) => (i: number) => Promise<number>;
  /** The request body for profile `p` (the `i`-th). */
  encode: (p: Uint8Array, i: number) => Uint8Array;
}

/** The B1 shapes, profiles stamped `now` (ms): "python" via Connect Push, "wide" via /ingest?format=pprof. */
export function shapes(now: number): Shape[] {
  return [
    {
      name: 'python',
      target: 500_000,
      make: () => Array.from({ length: 8 }, (_, i) => pythonShapePprof(1 + i, now)),
      send: (port: number, bodies: Uint8Array<ArrayBuffer>[]) => async (i: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/push.v1.PusherService/Push`, {
          method: 'POST',
          headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
          body: bodies[i % bodies.length]!,
        });
        await res.arrayBuffer();
        return res.status;
      },
      encode: (p: Uint8Array, i: number) =>
        gzipSync(
          pushBody(
            {
              __name__: 'process_cpu',
              service_name: `bench-python-${i % 4}`,
              region: ['eu-north', 'us-east'][i % 2]!,
              version: '1.0.0',
            },
            p,
          ),
        ),
    },
    {
      name: 'wide',
      target: 150_000,
      make: () => Array.from({ length: 2 }, (_, i) => wideShapePprof(100 + i, now)),
      send: (port: number, bodies: Uint8Array<ArrayBuffer>[]) => async (i: number) => {
        const res = await fetch(
          `http://127.0.0.1:${port}/ingest?name=bench-wide-${i % 2}{region=eu,version=1}&format=pprof&spyName=javaspy`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream' },
            body: bodies[i % bodies.length]!,
          },
        );
        await res.arrayBuffer();
        return res.status;
      },
      encode: (p: Uint8Array) => gzipSync(p),
    },
  ];
}

/** user+sys CPU seconds of process `pid` so far, from /proc (clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What the server process is started with; `limits` adds to the raised limits of `serve`. */
export interface ServeOptions {
  store?: 'duckdb' | 'clickhouse';
  dataDir?: string;
  clickhouseUrl?: string;
  limits?: Record<string, number>;
}

export interface BenchServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly pid: number;
  /** user+sys CPU seconds of the server process so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * `node ...args` pinned to CPU 0 when taskset exists and there is a second core for the load
 * generator (taskset execs node in place, so the child's pid is the server's). stdout is piped.
 */
export function spawnPinned(args: readonly string[]): ChildProcess {
  let hasTaskset = false;
  try {
    execSync('command -v taskset', { stdio: 'ignore' });
    hasTaskset = cpus().length > 1;
  } catch {
    hasTaskset = false;
  }
  return hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Starts this module in --serve mode (a real startServer process), pinned to CPU 0 when taskset exists. */
export async function startBenchServer(options: ServeOptions): Promise<BenchServer> {
  const self = new URL(import.meta.url).pathname;
  // B1_CPU_PROFILE_DIR=dir writes the server's V8 CPU profile there (open it in Chrome DevTools).
  const profileDir = process.env.B1_CPU_PROFILE_DIR;
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawnPinned([...profiling, '--import', 'tsx', self, '--serve', JSON.stringify(options)]);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Hotpath listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`bench server exited ${code}: ${out}`)));
  });
  return {
    child,
    port,
    pid: child.pid!,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface LoadResult {
  samples: number;
  requests: number;
  failures: number;
  latenciesMs: number[];
}

/** `clients` concurrent loops sending `bodies` round-robin until `stopAt` (ms). */
export async function runLoad(
  send: (i: number) => Promise<number>,
  clients: number,
  stopAt: number,
  samplesPerRequest: number,
): Promise<LoadResult> {
  const result: LoadResult = { samples: 0, requests: 0, failures: 0, latenciesMs: [] };
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < stopAt) {
        const i = next++;
        const t0 = performance.now();
        let status = 0;
        try {
          status = await send(i);
        } catch {
          status = 0;
        }
        result.latenciesMs.push(performance.now() - t0);
        result.requests++;
        if (status === 200) result.samples += samplesPerRequest;
        else result.failures++;
      }
    }),
  );
  return result;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The server side: a real startServer with the limits the shapes need (wide profiles exceed 4 MiB raw). */
async function serve(options: ServeOptions): Promise<void> {
  const { startServer } = await import('../../packages/server/src/main.ts');
  const { limits, ...where } = options;
  const running = await startServer({
    port: 0,
    ...where,
    logger: false,
    handleSignals: true,
    limits: { maxProfileBytes: 64 * 1024 * 1024, maxSeriesPerTenant: 0, ...limits },
  });
  process.stdout.write(`Hotpath listening on ${running.url}\n`);
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--serve'
) {
  await serve(JSON.parse(process.argv[3]!) as ServeOptions);
}
