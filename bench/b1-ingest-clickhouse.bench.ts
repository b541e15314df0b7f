// B1 on the scale-out backend, beside the embedded one: ingest throughput per server core, end to end
// (HTTP → decode → validate → normalise → group commit → acknowledged by the store), with the same
// payload shapes as b1-ingest.bench.ts: "python" = 1,000 samples over ~200 stacks of depth 20-40,
// 5 thread_name values, 3 series labels, via Connect Push (gzip); "wide" = 8,000 samples with long
// high-entropy symbols (~4 MB gzip) via /ingest?format=pprof. Two real server processes (startServer
// with --store duckdb and --store clickhouse, the latter against a clickhouse-server started on
// loopback for the run), loaded in turn A B A B over 5 windows per shape by 8 concurrent clients.
// Samples/s per core = samples acknowledged (200) / CPU-seconds of the Hotpath process; for ClickHouse
// also per CPU-second of Hotpath + clickhouse-server together (the honest cost of the pair).
// Run: `make bench B=b1-ingest-clickhouse` (B1CH_DRY=1 prints without recording; B1CH_SECONDS sets the
// window length).

import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodePprof, makeProfileType, ProfileBuilder } from '@hotpath/core';
import { ProtoWriter } from '../packages/server/src/connect/wire.ts';
import { startClickHouse } from '../packages/server/test/support/clickhouse.ts';

/** A deterministic PRNG (mulberry32) so every run generates the same data. */
function rng(seed: number): () => number {
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
function pythonShapePprof(seed: number, timeMs: number): { bytes: Uint8Array; samples: number } {
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
function wideShapePprof(seed: number, timeMs: number): { bytes: Uint8Array; samples: number } {
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
function pushBody(labels: Record<string, string>, pprof: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (sw) => {
    for (const [name, value] of Object.entries(labels)) sw.message(1, (lw) => lw.string(1, name).string(2, value));
    sw.message(2, (rw) => rw.bytes(1, pprof).string(2, '0b4e5ae0-7d7c-4f0e-9a57-8d5b6f1b2c3d'));
  });
  return w.finish();
}

interface LoadResult {
  samples: number;
  requests: number;
  failures: number;
  latenciesMs: number[];
}

/** `clients` concurrent loops sending `bodies` round-robin until `stopAt` (ms). */
async function runLoad(
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

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

const CLK_TCK = 100;

function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

interface BenchServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts this file in --serve mode (a real startServer process), pinned to CPU 0 when taskset exists. */
async function startBenchServer(name: string, store: 'duckdb' | 'clickhouse', target: string): Promise<BenchServer> {
  const self = new URL(import.meta.url).pathname;
  const args = ['--import', 'tsx', self, '--serve', store, target];
  let hasTaskset = false;
  try {
    execSync('command -v taskset', { stdio: 'ignore' });
    hasTaskset = cpus().length > 1;
  } catch {
    hasTaskset = false;
  }
  const child: ChildProcess = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    name,
    port,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The server side: a real startServer with the limits the shapes need (wide profiles exceed 4 MiB raw). */
async function serve(store: 'duckdb' | 'clickhouse', target: string): Promise<void> {
  const { startServer } = await import('../packages/server/src/main.ts');
  const running = await startServer({
    port: 0,
    store,
    ...(store === 'duckdb' ? { dataDir: target } : { clickhouseUrl: target }),
    logger: false,
    handleSignals: true,
    limits: { maxProfileBytes: 64 * 1024 * 1024, maxSeriesPerTenant: 0 },
  });
  process.stdout.write(`Hotpath listening on ${running.url}\n`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const range = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;

async function main(): Promise<void> {
  const WINDOW_S = Number(process.env.B1CH_SECONDS ?? 4);
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

  const ch = await startClickHouse();
  const chPid = Number(execSync(`pgrep -f -- "--config-file=${ch.dir}/config.xml"`).toString().trim().split('\n')[0]);
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b1ch-'));
  const servers: BenchServer[] = [];
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    servers.push(await startBenchServer('duckdb', 'duckdb', dataDir));
    servers.push(await startBenchServer('clickhouse', 'clickhouse', ch.url));
    for (const shape of shapes) {
      const profiles = shape.make();
      const bodies = profiles.map((p, i) => new Uint8Array(shape.encode(p.bytes, i)));
      const samplesPer = profiles[0]!.samples;
      const stats = new Map(servers.map((s) => [s.name, { perCore: [] as number[], perPairCore: [] as number[], wall: [] as number[], cpu: 0, chCpu: 0, all: { samples: 0, requests: 0, failures: 0, latenciesMs: [] } as LoadResult }]));
      for (const s of servers) await runLoad(shape.send(s.port, bodies), 2, Date.now() + 1000, samplesPer); // warm-up
      for (let rep = 0; rep < REPS; rep++) {
        for (const s of servers) {
          const st = stats.get(s.name)!;
          const cpu0 = cpuSecondsOf(s.pid);
          const ch0 = cpuSecondsOf(chPid);
          const t0 = performance.now();
          const r = await runLoad(shape.send(s.port, bodies), CLIENTS, Date.now() + WINDOW_S * 1000, samplesPer);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = cpuSecondsOf(s.pid) - cpu0;
          const chCpu = cpuSecondsOf(chPid) - ch0;
          st.cpu += cpu;
          st.chCpu += chCpu;
          st.perCore.push(r.samples / cpu);
          st.perPairCore.push(r.samples / (cpu + chCpu));
          st.wall.push(r.samples / seconds);
          st.all.samples += r.samples;
          st.all.requests += r.requests;
          st.all.failures += r.failures;
          st.all.latenciesMs.push(...r.latenciesMs);
        }
      }
      const gzKb = bodies.reduce((a, b) => a + b.length, 0) / bodies.length / 1024;
      for (const s of servers) {
        const st = stats.get(s.name)!;
        const p99 = quantile(st.all.latenciesMs, 0.99);
        const pair = s.name === 'clickhouse' ? range(st.perPairCore) : '-';
        rows.push(
          `| ${shape.name} | ${s.name} | ${gzKb.toFixed(0)} KiB gz | ${range(st.perCore)} | ${pair} | ${fmt(median(st.wall))} | ${st.cpu.toFixed(1)} | ${s.name === 'clickhouse' ? st.chCpu.toFixed(1) : '-'} | ${st.all.requests} / ${st.all.failures} | ${quantile(st.all.latenciesMs, 0.5).toFixed(0)} / ${p99.toFixed(0)} | ${fmt(shape.target)} |`,
        );
        console.log(rows[rows.length - 1]);
        const met = median(st.perCore) >= shape.target && st.all.failures === 0 && p99 < 1000;
        verdicts.push(`${shape.name} on ${s.name}: **${met ? 'met' : 'not met'}** (${fmt(median(st.perCore))} samples/s per Hotpath core, ${st.all.failures} failures, p99 ${p99.toFixed(0)} ms)`);
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    await ch.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const text = [
    '',
    `## B1 ingest throughput per core, embedded vs ClickHouse: ${date}, commit ${commit}, ${execSync('nproc').toString().trim()} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    '',
    `Two real server processes (startServer: --store duckdb, and --store clickhouse against Debian's clickhouse-server 18.16 on loopback; group commit 200 ms; Hotpath pinned to CPU 0 with taskset, ClickHouse not pinned), ${CLIENTS} concurrent loopback clients in this process, ${REPS} windows of ${WINDOW_S} s per shape, the two servers loaded in turn. Samples/s per core = pprof samples acknowledged with 200 / CPU-seconds (user+sys) of the Hotpath process, median (min-max) over the windows; "with CH" divides by Hotpath + clickhouse-server CPU-seconds. Same shapes as b1-ingest.bench.ts. The machine is shared with other work (load average well above 2 during the run), so absolute figures are pessimistic; the side-by-side ratio is the point.`,
    '',
    '| shape | store | body | samples/s per Hotpath core | per core with CH | samples/s wall | Hotpath CPU s | CH CPU s | requests / failed | p50 / p99 ms | target per core |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Targets (≥ 500,000 python, ≥ 150,000 wide samples/s per core, zero drops, p99 < 1 s): ${verdicts.join('; ')}.`,
    '',
  ].join('\n');
  const resultsPath = new URL('./RESULTS.md', import.meta.url).pathname;
  if (!process.env.B1CH_DRY) execSync(`flock /tmp/results.lock sh -c 'cat >> "${resultsPath}"'`, { input: text });
  console.log(text);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly && process.argv[2] === '--serve') await serve(process.argv[3] as 'duckdb' | 'clickhouse', process.argv[4]!);
else if (invokedDirectly) await main();
