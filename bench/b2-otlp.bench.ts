// B2 for OpenTelemetry profiles: one OTLP ExportProfilesServiceRequest decoded (protobuf-es), mapped
// to the model and normalised (BatchBuilder), beside the same profile as pprof through the pprof
// path (core's decoder + BatchBuilder), in one process, interleaved. Shape: B1's "python" (1,000
// samples over ~200 stacks of depth 20-40, 3 sample labels), one request = 1 and = 20 profiles.
// Reported: samples/s (end of normalisation, no store) and MB/s of the uncompressed body.
import { decodePprof, encodePprof, makeProfileType, ProfileBuilder } from '../packages/core/src/index.ts';
import { decodeOtlpBinary, otlpUploads } from '../packages/server/src/ingest/otlp.ts';
import { BatchBuilder, type Upload } from '../packages/server/src/ingest/normalize.ts';
import { resolveLimits } from '../packages/server/src/limits.ts';
import { DictionaryBuilder, otlpBinary, otlpRequest } from '../packages/server/test/support/otlp.ts';
import { loadAverage, machine, record } from './lib/results.ts';
import { rng } from './lib/rng.ts';

const REPS = 7;
const REP_MS = 150;
const NOW_MS = Date.UTC(2026, 0, 1);
const TIME_NS = BigInt(NOW_MS) * 1_000_000n;
const LIMITS = resolveLimits({ maxSamplesPerProfile: 1_000_000 });

interface Shape {
  stacks: { fn: string; file: string }[][];
  samples: { stack: number; value: number; labels: [string, string][] }[];
}

function pythonShape(seed: number): Shape {
  const r = rng(seed);
  const fns = Array.from({ length: 400 }, (_, i) => ({ fn: `handler_${i}`, file: `app/mod${i % 40}.py` }));
  const stacks = Array.from({ length: 200 }, () => {
    const depth = 20 + Math.floor(r() * 21);
    return Array.from({ length: depth }, (_, d) => fns[(d * 7 + Math.floor(r() * 400)) % 400]!);
  });
  const samples = Array.from({ length: 1000 }, () => ({
    stack: Math.floor(r() * stacks.length),
    value: 1 + Math.floor(r() * 5),
    labels: [
      ['region', `r${Math.floor(r() * 3)}`],
      ['vehicle', `v${Math.floor(r() * 3)}`],
      ['endpoint', `/e${Math.floor(r() * 4)}`],
    ] as [string, string][],
  }));
  return { stacks, samples };
}

function asOtlp(shape: Shape, profiles: number): Uint8Array {
  const d = new DictionaryBuilder();
  const stackIdx = shape.stacks.map((frames) =>
    d.stack(
      frames.map((f) =>
        d.location({ kind: 'cpython', mapping: 'python3.12', lines: [{ fn: f.fn, file: f.file }] }),
      ),
    ),
  );
  const one = {
    timeUnixNano: TIME_NS,
    sampleType: d.valueType('samples', 'count'),
    periodType: d.valueType('cpu', 'nanoseconds'),
    period: 10_000_000n,
    samples: shape.samples.map((s) => ({
      stackIndex: stackIdx[s.stack]!,
      values: [BigInt(s.value)],
      attributeIndices: s.labels.map(([k, v]) => d.attr(k, v)),
    })),
  };
  return otlpBinary(
    otlpRequest(d, [
      { attributes: { 'service.name': 'bench' }, profiles: Array.from({ length: profiles }, () => one) },
    ]),
  );
}

function asPprof(shape: Shape): Uint8Array {
  const b = new ProfileBuilder([makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds')], {
    timeNs: NOW_MS * 1e6,
    period: 10_000_000,
  });
  const stackIdx = shape.stacks.map((frames) => b.stackOf(frames.map((f) => b.frame(f.fn, f.file))));
  for (const s of shape.samples)
    b.sample(
      stackIdx[s.stack]!,
      [s.value * 10_000_000],
      b.labelSet(s.labels.map(([name, value]) => ({ name, value }))),
    );
  return encodePprof(b.build());
}

function otlpOnce(bytes: Uint8Array): number {
  const entries = otlpUploads(decodeOtlpBinary(bytes), NOW_MS);
  const builder = new BatchBuilder('t', LIMITS, NOW_MS);
  for (const e of entries) builder.add(e.upload!);
  return builder.result().rows;
}

function pprofOnce(bytes: Uint8Array, copies: number): number {
  const builder = new BatchBuilder('t', LIMITS, NOW_MS);
  for (let i = 0; i < copies; i++) {
    const upload: Upload = {
      profiles: decodePprof(bytes),
      labels: [{ name: 'service_name', value: 'bench' }],
      fallbackTimeMs: NOW_MS,
      preferProfileTime: true,
    };
    builder.add(upload);
  }
  return builder.result().rows;
}

/** ms per call: repeat for about REP_MS. */
function timeOne(fn: () => unknown): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < REP_MS) {
    fn();
    n++;
  }
  return (performance.now() - start) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[], f: (x: number) => number) => {
  const ys = xs.map(f).sort((a, b) => a - b);
  return `${Math.round(median(ys)).toLocaleString('en-US')} (${Math.round(ys[0]!).toLocaleString('en-US')}–${Math.round(ys[ys.length - 1]!).toLocaleString('en-US')})`;
};

const m = machine();
const shape = pythonShape(42);
const pprof = asPprof(shape);
const rows: string[] = [];
const cpuStart = process.cpuUsage();
for (const profiles of [1, 20]) {
  const otlp = asOtlp(shape, profiles);
  const samples = 1000 * profiles;
  for (let w = 0; w < 20; w++) {
    otlpOnce(otlp);
    pprofOnce(pprof, profiles);
  }
  const o: number[] = [];
  const p: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    o.push(timeOne(() => otlpOnce(otlp)));
    p.push(timeOne(() => pprofOnce(pprof, profiles)));
  }
  const per = (bytes: number) => (ms: number) => bytes / 1e6 / (ms / 1000);
  rows.push(
    `| ${profiles} × 1,000 | OTLP protobuf | ${otlp.length.toLocaleString('en-US')} | ${fmt(o, (ms) => samples / (ms / 1000))} | ${fmt(o, per(otlp.length))} |`,
    `| ${profiles} × 1,000 | pprof (${profiles} bodies) | ${(pprof.length * profiles).toLocaleString('en-US')} | ${fmt(p, (ms) => samples / (ms / 1000))} | ${fmt(p, per(pprof.length * profiles))} |`,
  );
}
const cpu = process.cpuUsage(cpuStart);
record(
  `
## B2 OTLP profiles decode + map + normalise: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, load average ${loadAverage()}

B1's python shape (1,000 samples, 200 stacks of depth 20-40, 3 sample labels) as one OTLP request
(protobuf-es decode → dictionary mapping → BatchBuilder) beside the same profile as pprof (core decoder
→ BatchBuilder), interleaved, ${REPS} repetitions of ~${REP_MS} ms, median (min–max); no store, no HTTP.
CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in all. B1 target for the whole write path: ≥ 500,000 samples/s per core.

| profiles × samples | body | bytes | samples/s | MB/s |
|---|---|---|---|---|
${rows.join('\n')}
`,
  'BENCH_DRY',
);
