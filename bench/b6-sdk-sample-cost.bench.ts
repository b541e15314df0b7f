// B6: CPU cost of one sample (one sampler tick over all threads) of the Python SDK at K threads ×
// depth 30, busy and idle, vs a naive sys._current_frames walk in the same process. Target
// (BENCHMARKS.md): ≤ 50 µs per sample at 32×30. The work is done by
// sdk/python/bench/b6_sample_cost.py (interleaved, 5 reps, median and min-max); this wrapper
// runs it and appends the table to bench/RESULTS.md (B6_DRY=1 prints without recording).
import { execFileSync, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { machine, record } from './lib/results.ts';

interface Stat {
  median_us: number;
  min_us: number;
  max_us: number;
}
interface Row {
  threads: number;
  depth: number;
  state: string;
  flush_ms: number;
  hotpath_100hz: Stat;
  naive_100hz: Stat;
  empty_100hz: Stat;
  hotpath_warm: Stat;
  hotpath_first_line_warm: Stat;
  naive_warm: Stat;
}

const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const script = new URL('../sdk/python/bench/b6_sample_cost.py', import.meta.url).pathname;
const out = execFileSync(python, [script], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 24,
});
const result = JSON.parse(out.trim().split('\n').pop()!) as {
  python: string;
  reps: number;
  seconds_per_run: number;
  rows: Row[];
};

const f = (s: Stat): string => `${s.median_us.toFixed(1)} (${s.min_us.toFixed(0)}-${s.max_us.toFixed(0)})`;
const rows = result.rows.map(
  (r) =>
    `| ${r.threads}×${r.depth} | ${r.state} | ${f(r.hotpath_warm)} | ${f(r.hotpath_first_line_warm)} | ${f(r.naive_warm)} | ${f(r.hotpath_100hz)} | ${f(r.naive_100hz)} | ${r.empty_100hz.median_us.toFixed(1)} | ${r.flush_ms.toFixed(1)} |`,
);
const at32 = result.rows.filter((r) => r.threads === 32);
const warmMet = at32.length > 0 && at32.every((r) => r.hotpath_warm.median_us <= 50);
const coldMet = at32.length > 0 && at32.every((r) => r.hotpath_100hz.median_us <= 50);
const m = machine();
const load = execSync('cat /proc/loadavg').toString().trim().split(' ').slice(0, 3).join(' ');
const text = [
  '',
  `## B6 Python SDK cost per sample: ${m.date}, commit ${m.commit}, ${m.cpuCount} × ${m.cpu}, Python ${result.python}, load average ${load}`,
  '',
  `CPU µs inside one sampler tick (all threads of the process), median (min-max) of ${result.reps} interleaved runs. "warm" = ticks back to back (how the B6 anchor was measured); "@100 Hz" = ticking from sleep at 100 Hz as the agent does (caches cold after each wake-up). Naive = \`sys._current_frames()\` + walk of every frame with \`f_lineno\`. Busy threads spin in Python (GIL-bound); idle threads block on an Event. Flush = converting one window of samples to frames, paid once per upload.`,
  '',
  '| threads×depth | state | hotpath warm | hotpath warm, line_no=First | naive warm | hotpath @100 Hz | naive @100 Hz | measurement floor @100 Hz | flush ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `Target ≤ 50 µs per sample at 32×30: warm **${warmMet ? 'met' : 'not met'}** (${at32.map((r) => `${r.state} ${r.hotpath_warm.median_us.toFixed(1)} µs`).join(', ')}); at 100 Hz from sleep **${coldMet ? 'met' : 'not met'}** (${at32.map((r) => `${r.state} ${r.hotpath_100hz.median_us.toFixed(1)} µs`).join(', ')}).`,
  '',
].join('\n');
record(text, 'B6_DRY');
