// B2: pprof decode into the Hotpath model vs the `pprof-format` package on the same bytes.
// Target (BENCHMARKS.md): ≥ 100 MB/s and ≥ 5× pprof-format. Corpus: Go-like CPU profiles generated
// from a fixed seed at ~10 KB, 100 KB, 1 MB and 4 MB (uncompressed); gzip measured separately.
// Runs are interleaved (ours, theirs, ours, ...), ≥ 5 repetitions, median and min-max spread.
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  Profile as PfProfile,
  StringTable,
  type SampleInput,
  type LocationInput,
  type FunctionInput,
} from 'pprof-format';
import { decodePprof } from '../packages/core/src/index.ts';
import { loadAverage, machine, record } from './lib/results.ts';
import { rng } from './lib/rng.ts';

const SIZES = [10 * 1024, 100 * 1024, 1024 * 1024, 4 * 1024 * 1024];
const REPS = 7;
/** Each timed repetition runs the decoder enough times to last about this long. */
const REP_MS = 120;

/**
 * A Go-like CPU profile: stacks of depth 8-40 over a pool of locations (10% of them with an inlined
 * frame), 20% of samples with a string label, two sample types (samples/count, cpu/nanoseconds).
 */
function makeCorpus(targetBytes: number, seed: number): Uint8Array {
  const encode = (nSamples: number): Uint8Array => {
    const rnd = rng(seed);
    const table = new StringTable();
    const str = (s: string): number => table.dedup(s);
    const nFunctions = Math.max(50, Math.min(6000, Math.round(nSamples / 4)));
    const functions: FunctionInput[] = [];
    for (let i = 1; i <= nFunctions; i++) {
      const pkg = `github.com/acme/service/pkg${i % 37}`;
      const name = str(`${pkg}.(*Handler${i % 11}).Method${i}`);
      functions.push({
        id: i,
        name,
        systemName: name,
        filename: str(`/src/${pkg}/file${i % 53}.go`),
        startLine: 10 + (i % 300),
      });
    }
    const nLocations = nFunctions * 2;
    const locations: LocationInput[] = [];
    for (let i = 1; i <= nLocations; i++) {
      const fn = 1 + Math.floor(rnd() * nFunctions);
      const line = [{ functionId: fn, line: 1 + Math.floor(rnd() * 500) }];
      if (rnd() < 0.1)
        line.unshift({ functionId: 1 + Math.floor(rnd() * nFunctions), line: 1 + Math.floor(rnd() * 500) });
      locations.push({ id: i, mappingId: 1, address: 0x400000 + i * 16, line });
    }
    const labelKey = str('handler');
    const labelValues = Array.from({ length: 8 }, (_, i) => str(`/api/v1/endpoint${i}`));
    // Each sample shares a prefix with an earlier random sample and adds a fresh suffix of ~4
    // frames, so stacks share their root parts as in real programs (pprof samples are distinct
    // stacks: a profile of N samples has a few N distinct stack prefixes, not N × depth).
    const randomLocation = (): number => 1 + Math.floor(rnd() * nLocations);
    const stacks: number[][] = [];
    const samples: SampleInput[] = [];
    for (let s = 0; s < nSamples; s++) {
      let rootFirst: number[];
      if (stacks.length === 0 || rnd() < 0.02) {
        const depth = 8 + Math.floor(rnd() * 33);
        rootFirst = Array.from({ length: depth }, randomLocation);
      } else {
        const base = stacks[Math.floor(rnd() * stacks.length)]!;
        const suffix = 1 + Math.floor(-Math.log(1 - rnd()) * 3);
        const keep = Math.max(1, base.length - suffix);
        const depth = Math.min(40, Math.max(8, keep + 1 + Math.floor(rnd() * (suffix + 1))));
        rootFirst = base.slice(0, keep);
        while (rootFirst.length < depth) rootFirst.push(randomLocation());
      }
      stacks.push(rootFirst);
      const count = 1 + Math.floor(rnd() * 5);
      samples.push({
        locationId: [...rootFirst].reverse(),
        value: [count, count * 10_000_000],
        label: rnd() < 0.2 ? [{ key: labelKey, str: labelValues[Math.floor(rnd() * 8)]! }] : [],
      });
    }
    const p = new PfProfile({
      sampleType: [
        { type: str('samples'), unit: str('count') },
        { type: str('cpu'), unit: str('nanoseconds') },
      ],
      sample: samples,
      mapping: [{ id: 1, memoryStart: 0x400000, memoryLimit: 0x800000, filename: str('/usr/bin/service') }],
      location: locations,
      function: functions,
      stringTable: table,
      timeNanos: 1_700_000_000_000_000_000n,
      durationNanos: 10_000_000_000,
      periodType: { type: str('cpu'), unit: str('nanoseconds') },
      period: 10_000_000,
    });
    return p.encode();
  };
  let n = Math.max(10, Math.round(targetBytes / 60));
  let bytes = encode(n);
  for (let i = 0; i < 8 && Math.abs(bytes.length - targetBytes) > targetBytes * 0.03; i++) {
    n = Math.max(10, Math.round((n * targetBytes) / bytes.length));
    bytes = encode(n);
  }
  return bytes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Timing {
  /** MB/s over wall-clock time, per repetition. */
  wall: number[];
  /** MB/s over this process's CPU time (user + system), per repetition. */
  cpu: number[];
}

function timeRep(fn: () => void, iterations: number, bytes: number, acc: Timing): void {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const mb = (bytes * iterations) / 1e6;
  acc.wall.push(mb / (ns / 1e9));
  acc.cpu.push(mb / Math.max(1e-6, (cpu.user + cpu.system) / 1e6));
}

interface Result {
  row: string;
  oursCpu: number;
  ratioCpu: number;
}

function measure(label: string, size: number, ours: () => void, theirs: () => void): Result {
  // Warm up both (JIT): at least 5 rounds and 300 ms.
  const w0 = performance.now();
  let warm = 0;
  while (warm < 5 || performance.now() - w0 < 300) {
    ours();
    theirs();
    warm++;
  }
  const t1 = performance.now();
  theirs();
  const theirsMs = Math.max(0.01, performance.now() - t1);
  const t2 = performance.now();
  ours();
  const oursMs = Math.max(0.01, performance.now() - t2);
  const itOurs = Math.max(1, Math.round(REP_MS / oursMs));
  const itTheirs = Math.max(1, Math.round(REP_MS / theirsMs));
  const a: Timing = { wall: [], cpu: [] };
  const b: Timing = { wall: [], cpu: [] };
  for (let r = 0; r < REPS; r++) {
    timeRep(ours, itOurs, size, a);
    timeRep(theirs, itTheirs, size, b);
  }
  const cell = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
  const ratioCpu = median(a.cpu) / median(b.cpu);
  const ratioWall = median(a.wall) / median(b.wall);
  const row = `| ${label} | ${(size / 1024).toFixed(1)} KiB | ${cell(a.cpu)} | ${cell(b.cpu)} | ${ratioCpu.toFixed(2)}× | ${cell(a.wall)} | ${cell(b.wall)} | ${ratioWall.toFixed(2)}× |`;
  console.log(row);
  return { row, oursCpu: median(a.cpu), ratioCpu };
}

const rows: string[] = [];
const summary: Array<{ size: number; ours: number; ratio: number }> = [];
for (const [k, target] of SIZES.entries()) {
  const raw = makeCorpus(target, 0xb2 + k);
  // Sanity: both decoders agree on the sample count.
  const ourProfiles = decodePprof(raw);
  const theirs = PfProfile.decode(raw);
  if (ourProfiles[0]!.samples.length !== theirs.sample.length) throw new Error('sample count mismatch');
  const r = measure(
    'raw',
    raw.length,
    () => decodePprof(raw),
    () => PfProfile.decode(raw),
  );
  rows.push(r.row);
  summary.push({ size: raw.length, ours: r.oursCpu, ratio: r.ratioCpu });
  if (target === 1024 * 1024) {
    // gzip input: ours gunzips with fflate inside decodePprof; the baseline uses node:zlib + decode.
    const gz = new Uint8Array(gzipSync(raw));
    rows.push(
      measure(
        'gzip (MB/s of uncompressed bytes)',
        raw.length,
        () => decodePprof(gz),
        () => PfProfile.decode(gunzipSync(gz)),
      ).row,
    );
    rows.push(
      measure(
        'gzip, host node:zlib gunzip',
        raw.length,
        () => decodePprof(gz, { gunzip: (b) => new Uint8Array(gunzipSync(b)) }),
        () => PfProfile.decode(gunzipSync(gz)),
      ).row,
    );
  }
}

const met = summary.every((s) => s.ours >= 100 && s.ratio >= 5);
const m = machine();
const pkg = JSON.parse(
  readFileSync(new URL('../node_modules/pprof-format/package.json', import.meta.url), 'utf8'),
) as { version: string };
const load = loadAverage();
const text = [
  '',
  `## B2 pprof decode: ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Node ${process.version}`,
  '',
  `Hotpath \`decodePprof\` (into the model: frames, interned stacks, sample columns) vs \`pprof-format\` ${pkg.version} \`Profile.decode\` on the same bytes; ${REPS} interleaved repetitions of ~${REP_MS} ms each; MB/s = 10^6 bytes of uncompressed pprof per second, median (min-max), over this process's CPU time and over wall time. Load average at the end: ${load} (shared machine: wall figures include time the process waited for a core, so the target is judged on CPU time).`,
  '',
  '| input | size | Hotpath MB/s (CPU) | pprof-format MB/s (CPU) | ratio (CPU) | Hotpath MB/s (wall) | pprof-format MB/s (wall) | ratio (wall) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `Target: ≥ 100 MB/s and ≥ 5× pprof-format on every raw size: **${met ? 'met' : 'not met'}** (raw, CPU time: ${summary
    .map((s) => `${(s.size / 1024).toFixed(0)} KiB ${s.ours.toFixed(0)} MB/s ${s.ratio.toFixed(1)}×`)
    .join(', ')}).`,
  '',
].join('\n');
// B2_DRY=1 prints without recording (for development runs).
record(text, 'B2_DRY');
