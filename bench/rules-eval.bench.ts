// Recording rules on the write path: what evaluating a tenant's rules adds to normalising a profile.
// The B4 profile shape (1,000 samples drawn from a pool of 3,000 stacks of depth 10-40 sharing their
// root parts, 400 functions, one CPU type): BatchBuilder's normalisation, and the evaluation of 10
// rules matching it (5 with a function filter, each grouped by region) plus the counter update,
// timed in turn in the same loop; REPS repetitions of ~REP_MS, median and min-max µs per profile.
// Run: `make bench B=rules` (RULES_DRY=1 prints without recording).

import { create } from '@bufbuild/protobuf';
import { makeProfileType, ProfileBuilder, type Profile } from '@hotpath/core';
import { RecordingRuleSchema } from '../packages/server/src/gen/settings/v1/recording_rules_pb.ts';
import { BatchBuilder } from '../packages/server/src/ingest/normalize.ts';
import { resolveLimits } from '../packages/server/src/limits.ts';
import { Metrics } from '../packages/server/src/metrics.ts';
import { RuleRecorder } from '../packages/server/src/rules/recorder.ts';
import { loadAverage, machine, record } from './lib/results.ts';
import { rng } from './lib/rng.ts';

const SAMPLES = 1000;
const POOL = 3000;
const FUNCTIONS = 400;
const REPS = 15;
const REP_MS = 300;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const NOW_MS = Date.now();

function profileOf(seed: number): Profile {
  const rnd = rng(seed);
  const type = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
  const b = new ProfileBuilder([type], { timeNs: NOW_MS * 1e6, durationNs: 10e9, period: 10_000_000 });
  const frames = Array.from({ length: FUNCTIONS }, (_, i) => b.frame(`fn_${i}`, `mod_${i % 40}.py`));
  // Stacks share their root parts as in real programs: each extends a prefix of an earlier one.
  const paths: number[][] = [];
  for (let i = 0; i < POOL; i++) {
    const base = paths.length === 0 || rnd() < 0.02 ? [] : paths[Math.floor(rnd() * paths.length)]!;
    const path = base.slice(0, Math.max(0, base.length - 1 - Math.floor(rnd() * 4)));
    const depth = Math.min(40, Math.max(10, path.length + 1 + Math.floor(rnd() * 5)));
    while (path.length < depth) path.push(frames[Math.floor(rnd() * FUNCTIONS)]!);
    paths.push(path);
  }
  const pool = paths.map((path) => b.stackOf(path));
  for (let i = 0; i < SAMPLES; i++)
    b.sample(pool[Math.floor(rnd() * POOL)]!, [1e7 * (1 + Math.floor(rnd() * 5))]);
  return b.build()[0]!;
}

function recorderWith(rules: number): RuleRecorder {
  const r = new RuleRecorder(1000, new Metrics());
  for (let i = 0; i < rules; i++)
    r.set(
      'anonymous',
      create(RecordingRuleSchema, {
        id: `rule${String.fromCharCode(97 + i)}`,
        metricName: `bench_rule_${i}`,
        profileType: CPU,
        matchers: [`{__profile_type__="${CPU}"}`, '{service_name="ride-sharing-app"}'],
        groupBy: ['region'],
        stacktraceFilter: i % 2 === 0 ? { functionName: { functionName: `fn_${i * 7}` } } : undefined,
      }),
    );
  return r;
}

const limits = resolveLimits();
const profiles = Array.from({ length: 8 }, (_, i) => profileOf(i + 1));
const upload = (p: Profile) => ({
  profiles: [p],
  labels: [
    { name: 'service_name', value: 'ride-sharing-app' },
    { name: 'region', value: 'eu-north' },
  ],
  fallbackTimeMs: NOW_MS,
  preferProfileTime: true,
});

/** What the write path hands the rules for one profile: its value per stack index and frame names. */
const inputs = profiles.map((p) => {
  const sums = new Float64Array(p.stacks.length);
  for (let i = 0; i < p.samples.length; i++) sums[p.samples.stack[i]!]! += p.samples.value[i]!;
  const names = Array.from({ length: p.frames.length }, (_, f) => p.frames.name[f] ?? '');
  return { p, sums, names };
});
const LABELS = [
  { name: '__profile_type__', value: CPU },
  { name: 'region', value: 'eu-north' },
  { name: 'service_name', value: 'ride-sharing-app' },
];

/**
 * One repetition of ~REP_MS: each round normalises a profile (BatchBuilder, no rules) and evaluates
 * the 10 rules over it (a new evaluator, as per request, then the counters), so load on the machine
 * falls on both alike. Returns µs per profile of each.
 */
function rep(rules: RuleRecorder): { normalise: number; evaluate: number } {
  let n = 0;
  let normaliseMs = 0;
  let evaluateMs = 0;
  const started = performance.now();
  while (performance.now() - started < REP_MS) {
    const { p, sums, names } = inputs[n % inputs.length]!;
    let t = performance.now();
    const b = new BatchBuilder('anonymous', limits, NOW_MS, new Set());
    b.add(upload(p));
    b.result();
    normaliseMs += performance.now() - t;
    t = performance.now();
    const evaluator = rules.evaluator('anonymous')!;
    evaluator.observe(LABELS, p.stacks, names, sums);
    rules.apply(evaluator.hits);
    evaluateMs += performance.now() - t;
    n++;
  }
  return { normalise: (normaliseMs * 1000) / n, evaluate: (evaluateMs * 1000) / n };
}

const ten = recorderWith(10);
rep(ten);
const normalise: number[] = [];
const evaluate: number[] = [];
const share: number[] = [];
for (let i = 0; i < REPS; i++) {
  const r = rep(ten);
  normalise.push(r.normalise);
  evaluate.push(r.evaluate);
  share.push((r.evaluate / r.normalise) * 100);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)} to ${Math.max(...xs).toFixed(0)}`;
const m = machine();
const text = `
## Recording rules on the write path: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu.split(' ').slice(0, 2).join(' ')}, Node ${process.version}, load average ${loadAverage()}

BatchBuilder over one ${SAMPLES}-sample CPU profile (pool of ${POOL} stacks, depth 10-40, ${FUNCTIONS} functions), ${REPS} repetitions of ~${REP_MS} ms, normalising and evaluating in turn (\`bench/rules-eval.bench.ts\`).

| per profile | µs, median | min to max |
|---|---|---|
| normalise (BatchBuilder, no rules) | ${median(normalise).toFixed(0)} | ${spread(normalise)} |
| evaluate 10 rules (5 with a function filter, all matching, grouped by region) and count | ${median(evaluate).toFixed(0)} | ${spread(evaluate)} |

Evaluating the rules costs ${median(share).toFixed(1)} % of normalising the profile (median over the repetitions, ${spread(share)} %).
`;
record(text, 'RULES_DRY');
