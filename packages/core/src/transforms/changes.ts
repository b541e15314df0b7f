// "What changed?": compares a selection with a baseline (which functions grew or shrank, which label
// values carry it), and within one range finds the label value that is the outlier and the periods of
// a value that differ from its other periods (from the shape of its timeline). Framework-free: it
// reads through a ChangeSource (the server's store adapter, or profiles in memory in tests), with caps
// on the labels, values and periods it examines. Shares and their noise are regression.ts's.

import type { Profile } from '../model.ts';
import { byFunction, compareRuns, type RunComparison, type ShareChange } from './regression.ts';
import { topTable } from './top.ts';

export interface ChangeRange {
  /** Inclusive, ms since epoch. */
  readonly startMs: number;
  /** Inclusive, ms since epoch. */
  readonly endMs: number;
}

export interface LabelEq {
  readonly name: string;
  readonly value: string;
}

/** Per-step totals of one value of a label (value '' = the selection as a whole). */
export interface ValueSeries {
  readonly value: string;
  readonly timesMs: readonly number[];
  readonly values: readonly number[];
}

/** What the engine reads: the selection (service, profile type, selector) is the source's own. */
export interface ChangeSource {
  /** The merged profile of the selection narrowed by `where` over `range` (never throws on no data). */
  profile(range: ChangeRange, where: readonly LabelEq[]): Promise<Profile>;
  /** Step totals of the selection grouped by `label` (null: one series, value ''). Steps without data left out. */
  series(range: ChangeRange, label: string | null, stepMs: number): Promise<ValueSeries[]>;
  /** Label names present in range. */
  labelNames(range: ChangeRange): Promise<string[]>;
}

export interface ChangeThresholds {
  /** A change must be at least this many standard errors (regression.ts's z). */
  readonly minZ: number;
  /** ...and move a function's share by at least this much (0.02 = 2 points of the total). */
  readonly minShareDelta: number;
  /** ...and rest on at least this many samples (mean per run, the larger side). */
  readonly minSamples: number;
}

export const DEFAULT_CHANGE_THRESHOLDS: ChangeThresholds = { minZ: 5, minShareDelta: 0.02, minSamples: 20 };

export interface ChangeOptions extends Partial<ChangeThresholds> {
  /** Labels to explain with; default: the selection's labels (reserved ones left out), capped. */
  readonly labels?: readonly string[];
  /** Labels examined at most (default 6). */
  readonly maxLabels?: number;
  /** Values examined per label at most, the largest first (default 8). */
  readonly maxValues?: number;
  /** Slices each side of the baseline comparison is cut into, the runs whose spread is the noise (default 6). */
  readonly runs?: number;
  /** Value of one sample in the profile's unit (10 ms of CPU = 1e7 ns); makes sample counts real. */
  readonly valuePerSample?: number;
  /** Timeline step for periods (default: range / 60, at least 10 s). */
  readonly stepMs?: number;
  /** Functions listed per direction at most (default 10). */
  readonly maxFunctions?: number;
  /** Label values whose periods are examined (the top outliers, default 2). */
  readonly maxPeriodValues?: number;
  /** Called between reads so a deadline can stop the work. */
  readonly check?: () => void;
}

/** Labels that never explain anything: they name the selection or how it was recorded (and `__*`). */
const RESERVED_LABELS = new Set(['service_name', 'pyroscope_spy']);
/** Labels whose values are looked at, at most, per label kept. */
const LABEL_SCAN_FACTOR = 3;
/** Timeline steps tried for periods: the range cut into this many steps (at least MIN_STEP_MS each). */
const PERIOD_BUCKETS = [60, 30, 20];
const MIN_STEP_MS = 10_000;
/** Slow and fast buckets compared at most (each one profile read). */
const PERIOD_RUNS = 5;
/**
 * Periods: the slow steps stand this many pooled standard deviations above the fast ones, and come
 * in runs: the runs test's z below −PERIOD_RUNS_Z (random order: P ≈ 2 %; both at once are rarer still),
 * or take turns with the fast ones step by step: z above PERIOD_ALTERNATION_Z.
 */
const PERIOD_SEPARATION = 3.5;
const PERIOD_RUNS_Z = 2;
const PERIOD_ALTERNATION_Z = 4;
const MAX_PERIOD_RANGES = 20;
/** The whole cost must move by this fraction (and minZ) to be reported. */
const MIN_TOTAL_CHANGE = 0.1;
/**
 * Coverage: a slice represents its side when it holds at least MIN_SLICE_FILL of the side's median
 * non-empty slice and does not follow an empty one (a process start: imports, warm-up). A side is
 * compared when at least MIN_COVERAGE of its slices represent it; an empty slice would otherwise
 * count as a run where every function's share is 0 (one full slice of six: 99 % reads as 16.5 %).
 */
const MIN_SLICE_FILL = 0.5;
const MIN_COVERAGE = 0.5;

export interface FunctionChange {
  readonly name: string;
  readonly direction: 'grew' | 'shrank';
  /** Shares of the side's total, 0..1. */
  readonly baseSelfShare: number;
  readonly headSelfShare: number;
  readonly baseTotalShare: number;
  readonly headTotalShare: number;
  readonly selfDelta: number;
  readonly totalDelta: number;
  /** Sum over the range, in the profile's unit. */
  readonly baseValue: number;
  readonly headValue: number;
  /** Samples behind the function (whole range). */
  readonly baseSamples: number;
  readonly headSamples: number;
  readonly z: number;
}

/** The selection's whole cost against the baseline's, when it moved past the thresholds. */
export interface TotalChange {
  /** Sums over the compared slices of each side. */
  readonly baseValue: number;
  readonly headValue: number;
  /** Mean compared slice of head / of the baseline (headValue / baseValue when both sides are whole). */
  readonly ratio: number;
  /** (head − base slice mean) / its standard error (slices' spread, never below sampling noise). */
  readonly z: number;
  /** Per label, the value carrying most of the change; largest carried first. */
  readonly carriedBy: {
    label: string;
    value: string;
    carried: number;
    baseValue: number;
    headValue: number;
  }[];
}

export interface ValueContribution {
  readonly value: string;
  /** The explained function's total value in this label value, each side. */
  readonly baseValue: number;
  readonly headValue: number;
  /** Fraction of the function's change this value carries (can be < 0 or > 1). */
  readonly carried: number;
  /** Fraction of the selection's head total this value is. */
  readonly traffic: number;
}

export interface Explanation {
  readonly label: string;
  /** The function explained (the largest significant change). */
  readonly function: string;
  /** carried − traffic of the first value: how much more of the change it carries than its size. */
  readonly score: number;
  /** Largest carried first. */
  readonly values: ValueContribution[];
}

export interface Outlier {
  readonly label: string;
  readonly value: string;
  readonly function: string;
  /** The function's self share in this value and in the label's other values (mean). */
  readonly valueShare: number;
  readonly othersShare: number;
  readonly delta: number;
  readonly z: number;
  readonly samples: number;
  /** This value's total / the mean total of the others. */
  readonly costRatio: number;
}

export interface PeriodChange {
  readonly label: string;
  readonly value: string;
  readonly function: string;
  readonly stepMs: number;
  /** Contiguous slow ranges (inclusive bounds), in time order. */
  readonly slow: ChangeRange[];
  /** A typical slow and a typical fast step (nearest their group's mean): one to diff against the other. */
  readonly slowExample: ChangeRange;
  readonly fastExample: ChangeRange;
  /** Mean step total of the slow and the fast steps. */
  readonly slowMean: number;
  readonly fastMean: number;
  readonly slowShare: number;
  readonly fastShare: number;
  readonly delta: number;
  readonly z: number;
}

export interface Finding {
  /** changed: against the baseline; outlier: a label value within the range; periods: an outlier with slow periods. */
  readonly kind: 'changed' | 'outlier' | 'periods';
  readonly function: string;
  readonly label?: string;
  readonly value?: string;
  /** Share points moved (0..1): what findings are ranked by. */
  readonly score: number;
  readonly text: string;
  /** The two sides to compare or diff to see it (left = before / the rest, right = after / the value). */
  readonly left: Side;
  readonly right: Side;
}

/** One side of a comparison: the selection narrowed by `where` and `not` (label != value), over a range. */
export interface Side {
  readonly range: ChangeRange;
  readonly where: LabelEq[];
  readonly not: LabelEq[];
}

export interface ChangeReport {
  readonly head: ChangeRange;
  readonly baseline: ChangeRange | null;
  /** The baseline holds no data: nothing was compared with it. */
  readonly baselineEmpty: boolean;
  /** Fractions of each side's slices that represent it (0..1; 0 without a baseline): see MIN_SLICE_FILL. */
  readonly baselineCoverage: number;
  readonly headCoverage: number;
  /** From the first to the last representative slice of each side: what was compared (null: nothing). */
  readonly baselineCompared: ChangeRange | null;
  readonly headCompared: ChangeRange | null;
  /** Why part or all of a side was left out of the comparison ('' when both were whole). */
  readonly coverageWarning: string;
  readonly thresholds: ChangeThresholds;
  readonly unit: string;
  /** Totals of the selection, each side (baseline 0 when there is none). */
  readonly baseTotal: number;
  readonly headTotal: number;
  /** The whole cost moved (more or less traffic, a slower machine): null when it did not. */
  readonly totalChange: TotalChange | null;
  readonly grew: FunctionChange[];
  readonly shrank: FunctionChange[];
  readonly explanations: Explanation[];
  readonly outliers: Outlier[];
  readonly periods: PeriodChange[];
  /** Everything above, largest first: the answer in one list. */
  readonly findings: Finding[];
  readonly labels: string[];
  /** Labels not examined (past maxLabels, or past the scan of LABEL_SCAN_FACTOR × maxLabels). */
  readonly labelsSkipped: number;
  /** Values left out by maxValues, summed over labels. */
  readonly valuesSkipped: number;
}

/** Cuts [start, end] into n contiguous inclusive slices of (nearly) equal length. */
export function sliceRange(r: ChangeRange, n: number): ChangeRange[] {
  const len = r.endMs - r.startMs + 1;
  const out: ChangeRange[] = [];
  for (let i = 0; i < n; i++) {
    const s = r.startMs + Math.floor((len * i) / n);
    const e = r.startMs + Math.floor((len * (i + 1)) / n) - 1;
    if (e >= s) out.push({ startMs: s, endMs: e });
  }
  return out;
}

/** Function name → total (on the stack) value; the same rows regression.ts compares. */
function functionTotals(p: Profile): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of topTable(byFunction(p))) out.set(r.name, Math.max(out.get(r.name) ?? 0, r.total));
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pts`;

export async function whatChanged(
  source: ChangeSource,
  head: ChangeRange,
  baseline: ChangeRange | null,
  options: ChangeOptions = {},
): Promise<ChangeReport> {
  const t: ChangeThresholds = {
    minZ: options.minZ ?? DEFAULT_CHANGE_THRESHOLDS.minZ,
    minShareDelta: options.minShareDelta ?? DEFAULT_CHANGE_THRESHOLDS.minShareDelta,
    minSamples: options.minSamples ?? DEFAULT_CHANGE_THRESHOLDS.minSamples,
  };
  const check = options.check ?? (() => undefined);
  const perSample = options.valuePerSample ?? 1;
  const maxValues = options.maxValues ?? 8;
  const maxFunctions = options.maxFunctions ?? 10;
  // Period = value of one sample, so regression.ts counts samples (its binomial noise floor).
  const read = async (range: ChangeRange, where: readonly LabelEq[]): Promise<Profile> => {
    check();
    const p = await source.profile(range, where);
    return { ...p, period: perSample };
  };
  const cache = new Map<string, Promise<Profile>>();
  const cached = (range: ChangeRange, where: readonly LabelEq[]) => {
    const key = JSON.stringify([range.startMs, range.endMs, where]);
    let p = cache.get(key);
    if (p === undefined) cache.set(key, (p = read(range, where)));
    return p;
  };
  const significant = (c: ShareChange, delta: number) =>
    Math.abs(delta) >= t.minShareDelta &&
    Math.abs(c.z) >= t.minZ &&
    Math.max(c.base.samples, c.head.samples) >= t.minSamples;

  // Candidate labels: the ones named, or the selection's own that have two values or more (a label
  // with one value explains nothing), examined up to LABEL_SCAN_FACTOR × maxLabels of them.
  const maxLabels = options.maxLabels ?? 6;
  const named = options.labels !== undefined;
  const wanted = named
    ? [...options.labels!]
    : (await source.labelNames(head)).filter((n) => !n.startsWith('__') && !RESERVED_LABELS.has(n)).sort();
  const labels: string[] = [];
  let valuesSkipped = 0;
  let scanned = 0;
  // The label's values in head, largest total first, capped.
  const valueTotals = new Map<string, Map<string, number>>();
  for (const label of wanted) {
    if (labels.length >= maxLabels || scanned >= maxLabels * LABEL_SCAN_FACTOR) break;
    scanned++;
    check();
    const series = await source.series(head, label, head.endMs - head.startMs + 1);
    const totals = new Map<string, number>();
    for (const s of series) {
      if (s.value === '') continue;
      totals.set(
        s.value,
        s.values.reduce((a, b) => a + b, 0),
      );
    }
    if (!named && totals.size < 2) continue;
    const sorted = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    valuesSkipped += Math.max(0, sorted.length - maxValues);
    labels.push(label);
    valueTotals.set(label, new Map(sorted.slice(0, maxValues)));
  }

  // 1. Against the baseline: runs = slices of each side, so their spread is the noise. Only the
  // slices that represent their side are runs (coverageOf): an empty or part-filled slice, or the
  // one where the process started, would read as every function's share moving.
  let grew: FunctionChange[] = [];
  let shrank: FunctionChange[] = [];
  const explanations: Explanation[] = [];
  let baseTotal = 0;
  let headTotal = 0;
  let baselineEmpty = false;
  let totalChange: TotalChange | null = null;
  let unit = '';
  let baselineCoverage = 0;
  let headCoverage = 0;
  let baselineCompared: ChangeRange | null = null;
  let headCompared: ChangeRange | null = null;
  let coverageWarning = '';
  if (baseline !== null) {
    const n = Math.max(2, options.runs ?? 6);
    const baseSlices = sliceRange(baseline, n);
    const headSlices = sliceRange(head, n);
    const baseAll = await Promise.all(baseSlices.map((r) => read(r, [])));
    const headAll = await Promise.all(headSlices.map((r) => read(r, [])));
    unit = headAll[0]!.type.sampleUnit;
    const bc = coverageOf(baseSlices, baseAll.map(totalOf));
    const hc = coverageOf(headSlices, headAll.map(totalOf));
    baseTotal = bc.total;
    headTotal = hc.total;
    baselineEmpty = baseTotal === 0;
    baselineCoverage = bc.kept.length / baseSlices.length;
    headCoverage = hc.kept.length / headSlices.length;
    // No data in the baseline: every function would look new. Nothing is compared then.
    const compared = !baselineEmpty && baselineCoverage >= MIN_COVERAGE && headCoverage >= MIN_COVERAGE;
    if (!baselineEmpty)
      coverageWarning = [
        coverageText('the baseline', bc.kept.length, baseSlices.length, compared),
        coverageText('the range', hc.kept.length, headSlices.length, compared),
      ]
        .filter((x) => x !== '')
        .join('; ');
    if (compared) {
      baselineCompared = bc.compared;
      headCompared = hc.compared;
      const { runs: baseRuns, parts: baseParts } = await runsOf(baseSlices, baseAll, bc.kept, n, read);
      const { runs: headRuns, parts: headParts } = await runsOf(headSlices, headAll, hc.kept, n, read);
      const cmp = compareRuns(baseRuns, headRuns);
      const changes = cmp.functions
        .filter((c) =>
          significant(c, Math.abs(c.totalDelta) >= Math.abs(c.selfDelta) ? c.totalDelta : c.selfDelta),
        )
        .map((c) => functionChange(c, cmp, perSample));
      // Values over the compared ranges, per slice with data in them: the two sides' rates.
      const baseRate = (v: number) => v / bc.slicesWithData;
      const headRate = (v: number) => v / hc.slicesWithData;
      // The whole cost per kept slice: a run cut in k parts counts k times (one side may be cut).
      const baseKept = baseRuns.map((p) => totalOf(p) * baseParts);
      const headKept = headRuns.map((p) => totalOf(p) * headParts);
      const baseMean = baseKept.reduce((a, b) => a + b, 0) / baseKept.length;
      const headMean = headKept.reduce((a, b) => a + b, 0) / headKept.length;
      const z = totalZ(baseKept, headKept, perSample);
      const ratio = baseMean > 0 ? headMean / baseMean : Infinity;
      if (Math.abs(z) >= t.minZ && Math.abs(ratio - 1) >= MIN_TOTAL_CHANGE) {
        const carriedBy: TotalChange['carriedBy'] = [];
        const whole = (r: ChangeRange) => r.endMs - r.startMs + 1;
        for (const label of labels) {
          check();
          const sumOf = (series: ValueSeries[]) => (v: string) =>
            series.find((x) => x.value === v)?.values.reduce((a, b) => a + b, 0) ?? 0;
          const baseOf = sumOf(await source.series(baselineCompared!, label, whole(baselineCompared!)));
          const headOf = sumOf(await source.series(headCompared!, label, whole(headCompared!)));
          const rows = [...valueTotals.get(label)!.keys()].map((value) => ({
            label,
            value,
            baseValue: baseOf(value),
            headValue: headOf(value),
            carried: (headRate(headOf(value)) - baseRate(baseOf(value))) / (headMean - baseMean),
          }));
          const best = rows.sort((a, b) => b.carried - a.carried)[0];
          if (best !== undefined) carriedBy.push(best);
        }
        carriedBy.sort((a, b) => b.carried - a.carried);
        totalChange = {
          baseValue: baseMean * bc.kept.length,
          headValue: headMean * hc.kept.length,
          ratio,
          z,
          carriedBy,
        };
      }
      grew = changes.filter((c) => c.direction === 'grew').slice(0, maxFunctions);
      shrank = changes.filter((c) => c.direction === 'shrank').slice(0, maxFunctions);
      const top = changes[0];
      if (top !== undefined) {
        const overall = top.headValue / hc.kept.length - top.baseValue / bc.kept.length;
        for (const label of labels) {
          const values: ValueContribution[] = [];
          for (const value of valueTotals.get(label)!.keys()) {
            const where = [{ name: label, value }];
            const [b, h] = await Promise.all([
              cached(baselineCompared!, where),
              cached(headCompared!, where),
            ]);
            const bv = functionTotals(b).get(top.name) ?? 0;
            const hv = functionTotals(h).get(top.name) ?? 0;
            values.push({
              value,
              baseValue: bv,
              headValue: hv,
              carried: overall !== 0 ? (headRate(hv) - baseRate(bv)) / overall : 0,
              traffic: headTotal > 0 ? valueTotals.get(label)!.get(value)! / headTotal : 0,
            });
          }
          values.sort((a, b) => b.carried - a.carried || (a.value < b.value ? -1 : 1));
          if (values.length === 0) continue;
          explanations.push({
            label,
            function: top.name,
            score: values[0]!.carried - values[0]!.traffic,
            values,
          });
        }
        explanations.sort((a, b) => b.score - a.score);
      }
    }
  }

  // 2. Within head: each value of a label against the label's other values.
  const outliers: Outlier[] = [];
  for (const label of labels) {
    const totals = valueTotals.get(label)!;
    const values = [...totals.keys()];
    if (values.length < 2) continue;
    const profiles = await Promise.all(values.map((value) => cached(head, [{ name: label, value }])));
    if (unit === '') unit = profiles[0]!.type.sampleUnit;
    values.forEach((value, i) => {
      const others = profiles.filter((_, k) => k !== i);
      const cmp = compareRuns(others, [profiles[i]!]);
      const best = cmp.functions
        .filter((c) => c.selfDelta > 0 && significant(c, c.selfDelta))
        .sort((a, b) => b.selfDelta - a.selfDelta)[0];
      if (best === undefined) return;
      const othersTotal =
        values.filter((_, k) => k !== i).reduce((a, v) => a + totals.get(v)!, 0) / others.length;
      outliers.push({
        label,
        value,
        function: best.name,
        valueShare: best.head.selfShare,
        othersShare: best.base.selfShare,
        delta: best.selfDelta,
        z: best.z,
        samples: best.head.samples,
        costRatio: othersTotal > 0 ? totals.get(value)! / othersTotal : Infinity,
      });
    });
  }
  outliers.sort((a, b) => b.delta - a.delta || (a.label < b.label ? -1 : 1));

  // 3. Periods of the top outliers (one per label): slow steps against fast ones, at the step
  // (of a few candidates) where the timeline's two levels stand furthest apart.
  const periods: PeriodChange[] = [];
  const span = head.endMs - head.startMs + 1;
  const steps =
    options.stepMs !== undefined
      ? [options.stepMs]
      : [
          ...new Set(
            PERIOD_BUCKETS.map((n) =>
              Math.max(MIN_STEP_MS, Math.round(span / n / MIN_STEP_MS) * MIN_STEP_MS),
            ),
          ),
        ];
  const seen = new Set<string>();
  const subjects = outliers.filter((o) => !seen.has(o.label) && seen.add(o.label));
  for (const o of subjects.slice(0, options.maxPeriodValues ?? 2)) {
    let best: { split: Split; steps: Step[]; stepMs: number } | null = null;
    for (const stepMs of steps) {
      check();
      const series = (await source.series(head, o.label, stepMs)).find((s) => s.value === o.value);
      if (series === undefined) continue;
      // Edge steps may be partial (the range need not end on a step): they are left out.
      const full = series.timesMs
        .map((time, i) => ({ time, value: series.values[i]! }))
        .filter((s) => s.time >= head.startMs && s.time + stepMs - 1 <= head.endMs);
      const split = splitSlowFast(full.map((s) => s.value));
      if (split !== null && (best === null || Math.abs(split.runsZ) > Math.abs(best.split.runsZ)))
        best = { split, steps: full, stepMs };
    }
    if (best === null) continue;
    const p = await periodsOf(best.steps, best.split, o, best.stepMs, cached, significant);
    if (p !== null) periods.push(p);
  }

  const findings: Finding[] = [];
  if (totalChange !== null) {
    const c = totalChange.carriedBy[0];
    findings.push({
      kind: 'changed',
      function: '',
      ...(c !== undefined ? { label: c.label, value: c.value } : {}),
      score: Math.min(1, Math.abs(totalChange.ratio - 1)),
      text:
        `the whole cost ${totalChange.ratio >= 1 ? 'grew' : 'shrank'} ×${totalChange.ratio.toFixed(2)} (z ${totalChange.z.toFixed(1)})` +
        (c !== undefined ? `, ${pct(c.carried)} of the change in ${c.label}=${c.value}` : ''),
      left: { range: baselineCompared!, where: [], not: [] },
      right: { range: headCompared!, where: [], not: [] },
    });
  }
  const top = grew[0] ?? shrank[0];
  if (top !== undefined) {
    const e = explanations[0];
    const v = e?.values[0];
    findings.push({
      kind: 'changed',
      function: top.name,
      ...(e !== undefined && v !== undefined ? { label: e.label, value: v.value } : {}),
      left: { range: baselineCompared!, where: [], not: [] },
      right: { range: headCompared!, where: [], not: [] },
      score: Math.abs(top.totalDelta),
      text:
        `${top.name} ${top.direction} ${pts(top.totalDelta)} of the total (z ${top.z.toFixed(1)}, ` +
        `${Math.round(top.baseSamples)} → ${Math.round(top.headSamples)} samples)` +
        (e !== undefined && v !== undefined ? `, ${pct(v.carried)} of it in ${e.label}=${v.value}` : ''),
    });
    for (const c of [...grew, ...shrank].slice(1))
      findings.push({
        kind: 'changed',
        function: c.name,
        left: { range: baselineCompared!, where: [], not: [] },
        right: { range: headCompared!, where: [], not: [] },
        score: Math.abs(c.totalDelta),
        text: `${c.name} ${c.direction} ${pts(c.totalDelta)} of the total (z ${c.z.toFixed(1)})`,
      });
  }
  // One finding per outlier value, its periods folded in. Ranked by the whole range's share delta:
  // of two values carrying one function (eu-north and car both carry mutex_lock) the one where it
  // is the larger part of the cost, the narrower explanation, comes first.
  for (const o of outliers) {
    const p = periods.find((x) => x.label === o.label && x.value === o.value);
    const outlierText =
      `${o.label}=${o.value} stands out: ${o.function} is ${pct(o.valueShare)} of it against ` +
      `${pct(o.othersShare)} in the other ${o.label} values (z ${o.z.toFixed(1)}, cost ×${o.costRatio.toFixed(2)})`;
    const periodText =
      p === undefined
        ? ''
        : `; ${p.slow.length}${p.slow.length === MAX_PERIOD_RANGES ? '+' : ''} slow period(s) at ×${(p.slowMean / Math.max(p.fastMean, 1e-300)).toFixed(2)} the cost ` +
          `of its fast ones, where ${p.function} is ${pct(p.slowShare)} against ${pct(p.fastShare)}`;
    const eq = [{ name: o.label, value: o.value }];
    findings.push({
      kind: p === undefined ? 'outlier' : 'periods',
      // Periods: a typical fast step against a typical slow one of the value; else the value against the rest.
      left:
        p === undefined ? { range: head, where: [], not: eq } : { range: p.fastExample, where: eq, not: [] },
      right: { range: p === undefined ? head : p.slowExample, where: eq, not: [] },
      function: o.function,
      label: o.label,
      value: o.value,
      score: o.delta,
      text: outlierText + periodText,
    });
  }
  // Changes against the baseline answer the question asked; differences within the range follow.
  // The functions that changed are the mechanism, the whole cost's change its context.
  const rank = (f: Finding) => (f.kind === 'changed' ? (f.function === '' ? 1 : 0) : 2);
  findings.sort((a, b) => rank(a) - rank(b) || b.score - a.score);

  if (baseline === null) {
    const whole = await source.series(head, null, head.endMs - head.startMs + 1);
    headTotal = whole.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
  }
  return {
    head,
    baseline,
    baselineEmpty,
    baselineCoverage,
    headCoverage,
    baselineCompared,
    headCompared,
    coverageWarning,
    totalChange,
    thresholds: t,
    unit,
    baseTotal,
    headTotal,
    grew,
    shrank,
    explanations,
    outliers,
    periods,
    findings,
    labels,
    labelsSkipped: Math.max(0, wanted.length - scanned),
    valuesSkipped,
  };
}

interface Coverage {
  /** Indexes of the slices that represent the side, in time order. */
  readonly kept: number[];
  /** From the first kept slice to the last (null: none kept). */
  readonly compared: ChangeRange | null;
  /** Slices with any data inside `compared`: what its values are spread over. */
  readonly slicesWithData: number;
  /** The side's whole total, every slice. */
  readonly total: number;
}

/**
 * The slices that represent a side: holding MIN_SLICE_FILL of the median non-empty slice, and not
 * the first after an empty one. E.g. totals [0, 0, 0, 0, 600, 1000] (a start 4.4 slices in): the
 * 600 follows an empty slice (start-up work), the 1000 alone is kept, coverage 1 / 6.
 */
function coverageOf(slices: readonly ChangeRange[], totals: readonly number[]): Coverage {
  const nonEmpty = totals.filter((x) => x > 0).sort((a, b) => a - b);
  const median = nonEmpty[Math.floor(nonEmpty.length / 2)] ?? 0;
  const kept: number[] = [];
  totals.forEach((x, i) => {
    if (x > 0 && x >= MIN_SLICE_FILL * median && (i === 0 || totals[i - 1]! > 0)) kept.push(i);
  });
  const first = kept[0];
  const last = kept[kept.length - 1];
  return {
    kept,
    compared:
      first === undefined || last === undefined
        ? null
        : { startMs: slices[first]!.startMs, endMs: slices[last]!.endMs },
    slicesWithData:
      first === undefined || last === undefined
        ? 0
        : totals.slice(first, last + 1).filter((x) => x > 0).length,
    total: totals.reduce((a, b) => a + b, 0),
  };
}

/**
 * The runs of a side: its kept slices, each cut in two or more when fewer than `n` are kept, so each
 * side keeps about n runs. Fewer runs estimate the noise from fewer degrees of freedom: 3 kept slices
 * against 6 reported a change in 3 of 200 unchanged runs at z ≥ 5, cut to 6 against 6 in none. Kept
 * whole when a cut would leave a run without data (uploads sparser than the cut).
 */
async function runsOf(
  slices: readonly ChangeRange[],
  profiles: readonly Profile[],
  kept: readonly number[],
  n: number,
  read: (range: ChangeRange, where: readonly LabelEq[]) => Promise<Profile>,
): Promise<{ runs: Profile[]; parts: number }> {
  const whole = { runs: kept.map((i) => profiles[i]!), parts: 1 };
  if (kept.length >= n) return whole;
  const parts = Math.ceil(n / kept.length);
  const cut = await Promise.all(kept.flatMap((i) => sliceRange(slices[i]!, parts)).map((r) => read(r, [])));
  return cut.every((p) => totalOf(p) > 0) ? { runs: cut, parts } : whole;
}

/** Why a side was (partly) left out of the comparison; '' when it was whole. */
function coverageText(side: string, kept: number, n: number, compared: boolean): string {
  const low = kept / n < MIN_COVERAGE;
  if (kept === n || (!compared && !low)) return '';
  return (
    `${side} has representative data in ${kept} of its ${n} slices (the others are empty, hold less ` +
    `than half a typical slice, or follow an empty one: a start): ` +
    (compared ? 'only those were compared' : 'fewer than half, so nothing was compared')
  );
}

function totalOf(p: Profile): number {
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) total += p.samples.value[i]!;
  return total;
}

/** Welch's z of the slice totals; each slice's variance at least its sampling (Poisson) noise. */
function totalZ(base: readonly number[], head: readonly number[], perSample: number): number {
  const stats = (xs: readonly number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.length > 1 ? xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) : 0;
    return { m, v: Math.max(v, m * perSample), n: xs.length };
  };
  const b = stats(base);
  const h = stats(head);
  const se = Math.sqrt(b.v / b.n + h.v / h.n);
  return se > 0 ? (h.m - b.m) / se : 0;
}

function functionChange(c: ShareChange, cmp: RunComparison, perSample: number): FunctionChange {
  const delta = Math.abs(c.totalDelta) >= Math.abs(c.selfDelta) ? c.totalDelta : c.selfDelta;
  return {
    name: c.name,
    direction: delta >= 0 ? 'grew' : 'shrank',
    baseSelfShare: c.base.selfShare,
    headSelfShare: c.head.selfShare,
    baseTotalShare: c.base.totalShare,
    headTotalShare: c.head.totalShare,
    selfDelta: c.selfDelta,
    totalDelta: c.totalDelta,
    baseValue: c.base.totalShare * cmp.baseTotal * cmp.baseRuns,
    headValue: c.head.totalShare * cmp.headTotal * cmp.headRuns,
    baseSamples: c.base.samples * cmp.baseRuns,
    headSamples: c.head.samples * cmp.headRuns,
    z: c.z,
  };
}

/**
 * Two-means split of the step totals (the cut that leaves the least spread inside the two groups);
 * periods when the slow group stands PERIOD_SEPARATION pooled deviations above the fast one.
 */
export interface Split {
  readonly slow: boolean[];
  readonly slowMean: number;
  readonly fastMean: number;
  /** (slowMean − fastMean) / the pooled standard deviation inside the two groups. */
  readonly separation: number;
  /** runsTest of the split in time order: below 0 when slow steps come in periods. */
  readonly runsZ: number;
}

interface Step {
  readonly time: number;
  readonly value: number;
}

export function splitSlowFast(values: readonly number[]): Split | null {
  if (values.length < 6) return null;
  const sorted = [...values].sort((a, b) => a - b);
  let best: { cut: number; ss: number } | null = null;
  for (let cut = 2; cut <= sorted.length - 2; cut++) {
    const lo = sorted.slice(0, cut);
    const hi = sorted.slice(cut);
    const ss = spread(lo) + spread(hi);
    if (best === null || ss < best.ss) best = { cut, ss };
  }
  if (best === null) return null;
  const lo = sorted.slice(0, best.cut);
  const hi = sorted.slice(best.cut);
  const fastMean = lo.reduce((a, b) => a + b, 0) / lo.length;
  const slowMean = hi.reduce((a, b) => a + b, 0) / hi.length;
  const sd = Math.sqrt(best.ss / Math.max(1, sorted.length - 2));
  const separation = sd > 0 ? (slowMean - fastMean) / sd : slowMean > fastMean ? Infinity : 0;
  const threshold = sorted[best.cut]!;
  const slow = values.map((v) => v >= threshold);
  const runsZ = runsTest(slow);
  // Slow steps in runs (periods longer than a step), or slow and fast strictly taking turns (periods
  // as long as a step: a 60 s swing seen at 60 s steps).
  if (!(separation > PERIOD_SEPARATION && (runsZ < -PERIOD_RUNS_Z || runsZ > PERIOD_ALTERNATION_Z)))
    return null;
  return { slow, slowMean, fastMean, separation, runsZ };
}

/**
 * Wald–Wolfowitz runs test: z of the number of slow/fast runs in time order against what a random
 * order would give. Noise flips often (z near 0); periods hold for several steps (z well below 0).
 */
export function runsTest(slow: readonly boolean[]): number {
  const n1 = slow.filter((x) => x).length;
  const n2 = slow.length - n1;
  if (n1 === 0 || n2 === 0) return 0;
  let runs = 1;
  for (let i = 1; i < slow.length; i++) if (slow[i] !== slow[i - 1]) runs++;
  const n = n1 + n2;
  const mean = (2 * n1 * n2) / n + 1;
  const variance = (2 * n1 * n2 * (2 * n1 * n2 - n)) / (n * n * (n - 1));
  return variance > 0 ? (runs - mean) / Math.sqrt(variance) : 0;
}

/** The step nearest the group's mean: a typical slow or fast step to diff, not an extreme one. */
function typical(steps: readonly Step[], mean: number): Step {
  return steps.reduce((a, b) => (Math.abs(b.value - mean) < Math.abs(a.value - mean) ? b : a));
}

function spread(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, x) => a + (x - m) ** 2, 0);
}

async function periodsOf(
  steps: readonly Step[],
  split: Split,
  o: Outlier,
  stepMs: number,
  cached: (range: ChangeRange, where: readonly LabelEq[]) => Promise<Profile>,
  significant: (c: ShareChange, delta: number) => boolean,
): Promise<PeriodChange | null> {
  const where = [{ name: o.label, value: o.value }];
  const rangeOf = (time: number): ChangeRange => ({ startMs: time, endMs: time + stepMs - 1 });
  const slowSteps = steps.filter((_, i) => split.slow[i]).sort((a, b) => b.value - a.value);
  const fastSteps = steps.filter((_, i) => !split.slow[i]).sort((a, b) => a.value - b.value);
  const slowRuns = await Promise.all(
    slowSteps.slice(0, PERIOD_RUNS).map((s) => cached(rangeOf(s.time), where)),
  );
  const fastRuns = await Promise.all(
    fastSteps.slice(0, PERIOD_RUNS).map((s) => cached(rangeOf(s.time), where)),
  );
  const cmp = compareRuns(fastRuns, slowRuns);
  const best = cmp.functions
    .filter((c) => c.selfDelta > 0 && significant(c, c.selfDelta))
    .sort((a, b) => b.selfDelta - a.selfDelta)[0];
  if (best === undefined) return null;
  const slow: ChangeRange[] = [];
  steps.forEach((s, i) => {
    if (!split.slow[i]) return;
    const last = slow[slow.length - 1];
    if (last !== undefined && last.endMs + 1 === s.time)
      slow[slow.length - 1] = { ...last, endMs: s.time + stepMs - 1 };
    else slow.push(rangeOf(s.time));
  });
  return {
    label: o.label,
    value: o.value,
    function: best.name,
    stepMs,
    slow: slow.slice(0, MAX_PERIOD_RANGES),
    slowExample: rangeOf(typical(slowSteps, split.slowMean).time),
    fastExample: rangeOf(typical(fastSteps, split.fastMean).time),
    slowMean: split.slowMean,
    fastMean: split.fastMean,
    slowShare: best.head.selfShare,
    fastShare: best.base.selfShare,
    delta: best.selfDelta,
    z: best.z,
  };
}
