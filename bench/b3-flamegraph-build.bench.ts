// B3 (the in-process half): flame graph build + flamebearer encode for one merged profile, the step
// the read path runs after the store has summed values per stack. Target (BENCHMARKS.md): a 24 h
// query < 500 ms at maxNodes 8,192, and the 3 M-unique-stack case < 2 s (server time, all steps).
// Profiles are synthetic from a fixed seed: a random recursive call tree of N stacks over 20,000
// function names (depth ~15-30), one sample per stack. 1 warm-up, then >= 5 repetitions: median (min-max).
import {
  makeProfileType,
  toFlamebearer,
  toFlamebearerDiff,
  type Profile,
} from '../packages/core/src/index.ts';
import { loadAverage, machine, record } from './lib/results.ts';
import { rng } from './lib/rng.ts';

const REPS = 5;
const MAX_NODES = 8192;

/** N stacks as a prefix tree (parent before child); one sample per stack, values 1..100 x 10 ms. */
function synthetic(stackCount: number, seed: number): Profile {
  const rand = rng(seed);
  const FUNCTIONS = 20_000;
  const name: string[] = [];
  const file: string[] = [];
  for (let f = 0; f < FUNCTIONS; f++) {
    name.push(`github.com/acme/svc/pkg${f % 97}.(*T${f % 13}).Method${f}`);
    file.push(`pkg${f % 97}/file${f % 31}.go`);
  }
  const parent = new Int32Array(stackCount);
  const frame = new Int32Array(stackCount);
  const depth = new Int32Array(stackCount);
  for (let i = 0; i < stackCount; i++) {
    // Parents drawn from the most recent stacks make deep, bushy trees like real call trees.
    const p = i < 8 ? -1 : i - 1 - Math.floor(rand() * Math.min(i, 64));
    const dp = p < 0 ? 0 : depth[p]!;
    parent[i] = dp >= 40 ? -1 : p;
    depth[i] = parent[i]! < 0 ? 1 : dp + 1;
    // Skewed function choice: a few hot functions, a long tail.
    frame[i] = Math.floor(FUNCTIONS * rand() ** 3);
  }
  const stack = new Int32Array(stackCount);
  const value = new Float64Array(stackCount);
  for (let i = 0; i < stackCount; i++) {
    stack[i] = i;
    value[i] = (1 + Math.floor(rand() * 100)) * 10_000_000;
  }
  return {
    type: makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds'),
    timeNs: 0,
    durationNs: 0,
    period: 10_000_000,
    frames: { length: FUNCTIONS, name, file, line: new Int32Array(FUNCTIONS) },
    stacks: { length: stackCount, parent, frame },
    samples: { length: stackCount, stack, value, labelSet: new Int32Array(stackCount) },
    sampleLabelSets: [[]],
  };
}

interface Run {
  ms: number[];
  cpuSec: number;
}

function time(fn: () => unknown, run: Run): unknown {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  run.ms.push(performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  run.cpuSec += (cpu.user + cpu.system) / 1e6;
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (r: Run) =>
  `${median(r.ms).toFixed(0)} (${Math.min(...r.ms).toFixed(0)}-${Math.max(...r.ms).toFixed(0)})`;

const rows: string[] = [];
const verdicts: string[] = [];
for (const [label, n, limitMs] of [
  ['100 k stacks', 100_000, 500],
  ['3 M stacks', 3_000_000, 2000],
] as const) {
  const p = synthetic(n, 42);
  const p2 = synthetic(n, 43);
  const single: Run = { ms: [], cpuSec: 0 };
  const diff: Run = { ms: [], cpuSec: 0 };
  toFlamebearer(p, { maxNodes: MAX_NODES }); // warm-up
  let nodes = 0;
  let bytes = 0;
  for (let r = 0; r < REPS; r++) {
    const fb = time(() => toFlamebearer(p, { maxNodes: MAX_NODES }), single) as ReturnType<
      typeof toFlamebearer
    >;
    nodes = fb.levels.reduce((s, l) => s + l.length / 4, 0);
    bytes = JSON.stringify(fb).length;
    time(() => toFlamebearerDiff(p, p2, { maxNodes: MAX_NODES }), diff);
  }
  const ok = median(single.ms) < limitMs;
  verdicts.push(`${label}: ${median(single.ms).toFixed(0)} ms vs < ${limitMs} ms ${ok ? 'met' : 'not met'}`);
  rows.push(
    `| ${label} | ${nodes} | ${(bytes / 1024).toFixed(0)} KiB | ${fmt(single)} | ${fmt(diff)} | ${single.cpuSec.toFixed(2)} / ${diff.cpuSec.toFixed(2)} |`,
  );
  console.log(rows[rows.length - 1]);
}

const m = machine();
const text = [
  '',
  `## B3 flame graph build + encode: ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Node ${process.version}, load average ${loadAverage()} at the end`,
  '',
  `A load average above the core count means other processes shared the CPUs: wall times are then inflated; CPU seconds less so. \`toFlamebearer(profile, {maxNodes: ${MAX_NODES}})\` on one merged synthetic profile (random call tree over 20,000 functions, one sample per stack), and \`toFlamebearerDiff\` of two such profiles; ${REPS} repetitions after a warm-up, ms median (min-max). Excludes the store's sum per stack and HTTP; the B3 query target covers those too.`,
  '',
  '| stacks | nodes out | JSON | toFlamebearer ms | toFlamebearerDiff ms | CPU s (single / diff, all reps) |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
  `Budget for this step (the whole query's target): ${verdicts.join('; ')}. Peer anchor: Pyroscope 3 M stacks / 10 M nodes in 3.6 s.`,
  '',
].join('\n');
// B3_DRY=1 prints without recording (for development runs).
record(text, 'B3_DRY');
