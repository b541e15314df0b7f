// B5: slowdown of Python programs profiled by the Hotpath SDK at 100 Hz (off vs on, interleaved,
// 5 reps, median and pair spread): two stdlib CPU-bound programs and a ThreadingHTTPServer with
// 8 and 32 handler threads. Target (BENCHMARKS.md): ≤ 1 % slowdown at 100 Hz, p99 latency change
// ≤ 2 %. The work is done by sdk/python/bench/b5_overhead.py, run twice: at a fixed 100 Hz
// (max_overhead=0, the target's condition) and with the SDK's default 1 % overhead cap.
// Appends to bench/RESULTS.md (B5_DRY=1 prints without recording).
import { execFileSync, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { machine, record } from './lib/results.ts';

interface Change {
  off_median: number;
  on_median: number;
  change_pct_median: number;
  pair_change_pct_min: number;
  pair_change_pct_max: number;
}
interface Workload {
  agent_cpu_share_of_wall_pct: { median: number; min: number; max: number };
  wall: Change;
  cpu: Change;
  p50_ms?: Change;
  p99_ms?: Change;
}
interface Result {
  python: string;
  reps: number;
  max_overhead: number;
  workloads: Record<string, Workload>;
}

const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const script = new URL('../sdk/python/bench/b5_overhead.py', import.meta.url).pathname;
const run = (maxOverhead: number): Result => {
  const out = execFileSync(python, [script, '--max-overhead', String(maxOverhead)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
};

const pct = (c: Change | undefined): string =>
  c
    ? `${c.change_pct_median >= 0 ? '+' : ''}${c.change_pct_median.toFixed(1)} % (${c.pair_change_pct_min.toFixed(1)}…${c.pair_change_pct_max.toFixed(1)})`
    : '–';
const table = (r: Result): string[] => [
  '| workload | wall off → on (s) | wall change | CPU s off → on | CPU change | hotpath threads CPU / wall | p99 ms off → on | p99 change |',
  '|---|---|---|---|---|---|---|---|',
  ...Object.entries(r.workloads).map(
    ([name, w]) =>
      `| ${name} | ${w.wall.off_median.toFixed(3)} → ${w.wall.on_median.toFixed(3)} | ${pct(w.wall)} | ${w.cpu.off_median.toFixed(3)} → ${w.cpu.on_median.toFixed(3)} | ${pct(w.cpu)} | ${w.agent_cpu_share_of_wall_pct.median.toFixed(2)} % (${w.agent_cpu_share_of_wall_pct.min.toFixed(2)}-${w.agent_cpu_share_of_wall_pct.max.toFixed(2)}) | ${w.p99_ms ? `${w.p99_ms.off_median.toFixed(1)} → ${w.p99_ms.on_median.toFixed(1)}` : '–'} | ${pct(w.p99_ms)} |`,
  ),
];
const verdict = (r: Result): string => {
  const ws = Object.values(r.workloads);
  const direct = ws.every((w) => w.agent_cpu_share_of_wall_pct.median <= 1);
  const wall = ws.every((w) => w.wall.change_pct_median <= 1);
  const p99 = ws.every((w) => !w.p99_ms || w.p99_ms.change_pct_median <= 2);
  return `direct cost (hotpath threads' CPU ≤ 1 % of wall) **${direct ? 'met' : 'not met'}**; A/B wall slowdown ≤ 1 % **${wall ? 'met' : 'not met'}**; p99 change ≤ 2 % **${p99 ? 'met' : 'not met'}**`;
};

const fixed = run(0);
const capped = run(0.01);
interface MemMode {
  median_s: number;
  min_s: number;
  max_s: number;
  slowdown_pct: number;
}
const memScript = new URL('../sdk/python/bench/mem_cost.py', import.meta.url).pathname;
const mem = JSON.parse(
  execFileSync(python, [memScript, '5'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!,
) as { modes: Record<string, MemMode> };
const m = machine();
const load = execSync('cat /proc/loadavg').toString().trim().split(' ').slice(0, 3).join(' ');
const text = [
  '',
  `## B5 Python SDK overhead: ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Python ${fixed.python}, load average ${load}`,
  '',
  `Each workload in a fresh process, SDK off / on interleaved, ${fixed.reps} reps; medians, and in parentheses the min…max of the per-pair on/off change. "On" uploads every 1 s to a local sink (10× the default upload rate). "hotpath threads CPU / wall" is the CPU time of the sampler and uploader threads divided by the workload's wall time: the direct cost, immune to the A/B noise of a shared machine. HTTP: 1,600 keep-alive GETs of ~1 ms CPU each from 8 / 32 client threads in another process.`,
  '',
  '### Fixed 100 Hz (max_overhead=0)',
  '',
  ...table(fixed),
  '',
  `Target ≤ 1 % at 100 Hz, p99 ≤ 2 %: ${verdict(fixed)}.`,
  '',
  '### Default: 100 Hz with the 1 % overhead cap (max_overhead=0.01)',
  '',
  ...table(capped),
  '',
  `With the cap: ${verdict(capped)}.`,
  '',
  '### Memory profiling cost (allocation-heavy program: dicts, lists, json)',
  '',
  '| mode | wall s, median (min-max) | slowdown |',
  '|---|---|---|',
  ...Object.entries(mem.modes).map(
    ([mode, m]) =>
      `| ${mode} | ${m.median_s.toFixed(3)} (${m.min_s.toFixed(3)}-${m.max_s.toFixed(3)}) | ${m.slowdown_pct >= 0 ? '+' : ''}${m.slowdown_pct.toFixed(1)} % |`,
  ),
  '',
  'Seconds per iteration of the work (~3 s of it per run, so several 1 s windows and their slices are in it). hotpath = `mem_enabled=True` with the default `mem_duty_cycle=0.02` (tracemalloc on for the first 2 % of each window, 128 frames, tags sampled at collections); tracemalloc = tracemalloc(128) on all the time (fewer iterations). The slice is a share of wall time, so the expected hotpath cost is at most duty / (1 − duty) = 2.04 % plus the end-of-slice snapshot, whatever tracemalloc costs inside the slice.',
  '',
].join('\n');
record(text, 'B5_DRY');
