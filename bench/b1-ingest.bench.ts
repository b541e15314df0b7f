// B1: ingest throughput per server core, end to end (HTTP → decode → validate → normalise → durable
// DuckDB commit), over loopback with concurrent clients, against a real `startServer` process.
// Shapes (BENCHMARKS.md): "python" = 1,000 samples over ~200 stacks of depth 20-40 with 5 thread
// label values and 3 series labels, sent as pyroscope-io ≥ 1.0 does (Connect Push, gzip);
// "wide" = 8,000 samples with long, high-entropy symbols (~4 MB gzip), sent to /ingest?format=pprof.
// Samples/s per core = pprof samples acknowledged / CPU-seconds (user+sys) of the server process.
// Run: `make bench B=b1` (B1_DRY=1 prints without recording; B1_SECONDS sets the window length).

import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodePprof, makeProfileType, ProfileBuilder } from '@hotpath/core';
import { ProtoWriter } from '../packages/server/src/connect/wire.ts';

/** A deterministic PRNG (mulberry32) so every run generates the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PY_CPU = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');

/** "python" shape: ~200 stacks × 5 thread_name values = 1,000 samples; values count × 10 ms. */
export function pythonShapePprof(seed: number, timeMs: number): { bytes: Uint8Array; samples: number } {
  const r = rng(seed);
  const b = new ProfileBuilder([PY_CPU], { timeNs: timeMs * 1e6, durationNs: 10e9, period: 10_000_000 });
  const fns = Array.from({ length: 300 }, (_, i) => b.frame(`app.module_${i % 40}.function_${i}`, `/srv/app/module_${i % 40}.py`, 10 + (i % 90)));
  const threads = Array.from({ length: 5 }, (_, i) => b.labelSet([{ name: 'thread_name', value: `worker-${i}` }]));
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
  const hex = () => Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0');
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
    for (const [name, value] of Object.entries(labels)) sw.message(1, (lw) => lw.string(1, name).string(2, value));
    sw.message(2, (rw) => rw.bytes(1, pprof).string(2, '0b4e5ae0-7d7c-4f0e-9a57-8d5b6f1b2c3d'));
  });
  return w.finish();
}

export interface BenchServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** user+sys CPU seconds of the server process so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const CLK_TCK = 100;

/** Starts this file in --serve mode (a real startServer process), pinned to CPU 0 when taskset exists. */
export async function startBenchServer(dataDir: string, extraLimits: Record<string, number> = {}): Promise<BenchServer> {
  const self = new URL(import.meta.url).pathname;
  const args = ['--import', 'tsx', self, '--serve', dataDir, JSON.stringify(extraLimits)];
  let hasTaskset = false;
  try {
    execSync('command -v taskset', { stdio: 'ignore' });
    hasTaskset = cpus().length > 1;
  } catch {
    hasTaskset = false;
  }
  const child = hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    cpuSeconds() {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    },
    stop() {
      return new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
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

export function machine(): { date: string; commit: string; cpu: string; cores: number } {
  return {
    date: new Date().toISOString().slice(0, 10),
    commit: execSync('git rev-parse --short HEAD').toString().trim(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: Number(execSync('nproc').toString().trim()),
  };
}

export function record(text: string, dryEnv: string): void {
  const resultsPath = new URL('./RESULTS.md', import.meta.url).pathname;
  if (!process.env[dryEnv]) execSync(`flock /tmp/results.lock sh -c 'cat >> "${resultsPath}"'`, { input: text });
  console.log(text);
}

/** The server side: a real startServer with the limits the shapes need (wide profiles exceed 4 MiB raw). */
async function serve(dataDir: string, extra: Record<string, number>): Promise<void> {
  const { startServer } = await import('../packages/server/src/main.ts');
  const running = await startServer({
    port: 0,
    dataDir,
    logger: false,
    handleSignals: true,
    limits: { maxProfileBytes: 64 * 1024 * 1024, maxSeriesPerTenant: 0, ...extra },
  });
  process.stdout.write(`Hotpath listening on ${running.url}\n`);
}

async function main(): Promise<void> {
  const WINDOW_S = Number(process.env.B1_SECONDS ?? 4);
  const REPS = 5;
  const CLIENTS = 8;
  const now = Date.now();
  const shapes = [
    {
      name: 'python',
      target: 500_000,
      make: () => Array.from({ length: 8 }, (_, i) => pythonShapePprof(1 + i, now)),
      send: (port: number, bodies: Uint8Array[]) => async (i: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/push.v1.PusherService/Push`, {
          method: 'POST',
          headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
          body: bodies[i % bodies.length]!,
        });
        await res.arrayBuffer();
        return res.status;
      },
      encode: (p: Uint8Array, i: number) =>
        gzipSync(pushBody({ __name__: 'process_cpu', service_name: `bench-python-${i % 4}`, region: ['eu-north', 'us-east'][i % 2]!, version: '1.0.0' }, p)),
    },
    {
      name: 'wide',
      target: 150_000,
      make: () => Array.from({ length: 2 }, (_, i) => wideShapePprof(100 + i, now)),
      send: (port: number, bodies: Uint8Array[]) => async (i: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/ingest?name=bench-wide-${i % 2}{region=eu,version=1}&format=pprof&spyName=javaspy`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: bodies[i % bodies.length]!,
        });
        await res.arrayBuffer();
        return res.status;
      },
      encode: (p: Uint8Array) => gzipSync(p),
    },
  ];
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const shape of shapes) {
    const profiles = shape.make();
    const bodies = profiles.map((p, i) => new Uint8Array(shape.encode(p.bytes, i)));
    const samplesPer = profiles[0]!.samples;
    const dataDir = mkdtempSync(join(tmpdir(), `hotpath-b1-${shape.name}-`));
    const server = await startBenchServer(dataDir);
    console.error(`B1 ${shape.name}: ${bodies.length} bodies of ${bodies[0]!.length} bytes, server on port ${server.port}`);
    try {
      const send = shape.send(server.port, bodies);
      await runLoad(send, 2, Date.now() + 1000, samplesPer); // warm-up
      const perCore: number[] = [];
      const wall: number[] = [];
      const all: LoadResult = { samples: 0, requests: 0, failures: 0, latenciesMs: [] };
      let cpuTotal = 0;
      for (let rep = 0; rep < REPS; rep++) {
        const cpu0 = server.cpuSeconds();
        const t0 = performance.now();
        const r = await runLoad(send, CLIENTS, Date.now() + WINDOW_S * 1000, samplesPer);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = server.cpuSeconds() - cpu0;
        cpuTotal += cpu;
        perCore.push(r.samples / cpu);
        wall.push(r.samples / seconds);
        all.samples += r.samples;
        all.requests += r.requests;
        all.failures += r.failures;
        all.latenciesMs.push(...r.latenciesMs);
        console.error(`  window ${rep + 1}: ${r.requests} requests, ${r.failures} failed, ${Math.round(r.samples / cpu)} samples per CPU-second`);
      }
      const p99 = quantile(all.latenciesMs, 0.99);
      const med = median(perCore);
      const gzKb = bodies.reduce((a, b) => a + b.length, 0) / bodies.length / 1024;
      const rawKb = profiles.reduce((a, p) => a + p.bytes.length, 0) / profiles.length / 1024;
      rows.push(
        `| ${shape.name} | ${samplesPer} | ${gzKb.toFixed(0)} KiB gz / ${rawKb.toFixed(0)} KiB raw | ${Math.round(med).toLocaleString('en')} (${Math.round(Math.min(...perCore)).toLocaleString('en')}-${Math.round(Math.max(...perCore)).toLocaleString('en')}) | ${Math.round(median(wall)).toLocaleString('en')} | ${cpuTotal.toFixed(1)} | ${all.requests} / ${all.failures} | ${quantile(all.latenciesMs, 0.5).toFixed(0)} / ${p99.toFixed(0)} | ${shape.target.toLocaleString('en')} |`,
      );
      const met = med >= shape.target && all.failures === 0 && p99 < 1000;
      verdicts.push(`${shape.name}: **${met ? 'met' : 'not met'}** (${Math.round(med).toLocaleString('en')} samples/s per core, ${all.failures} failures, p99 ${p99.toFixed(0)} ms)`);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const m = machine();
  record(
    [
      '',
      `## B1 ingest throughput per core: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      `A real server process (startServer, embedded DuckDB, group commit 200 ms; pinned to CPU 0 with taskset) and ${CLIENTS} concurrent loopback clients in this process (CPU 1); ${REPS} windows of ${WINDOW_S} s per shape. Samples/s per core = pprof samples acknowledged with 200 (i.e. durable) / CPU-seconds (user+sys) of the server process, median (min-max) over the windows. python shape via Connect Push (gzip PushRequest, 5 thread_name values → 5 series per profile), wide shape via /ingest?format=pprof (raw gzip; the server's 4 MiB profile limit raised for it). The machine is shared with other work.`,
      '',
      '| shape | samples/profile | body | samples/s per core | samples/s wall | server CPU s | requests / failed | p50 / p99 ms | target per core |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Targets (≥ 500,000 python, ≥ 150,000 wide samples/s per core, zero drops, p99 < 1 s): ${verdicts.join('; ')}.`,
      '',
    ].join('\n'),
    'B1_DRY',
  );
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly && process.argv[2] === '--serve') await serve(process.argv[3]!, JSON.parse(process.argv[4] ?? '{}') as Record<string, number>);
else if (invokedDirectly) await main();
