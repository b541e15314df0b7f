import { describe, expect, it } from 'vitest';
import { memoryChangeSource, NS_PER_SAMPLE, rideshareWindows } from '../testing/rideshare.ts';
import { runsTest, sliceRange, splitSlowFast, whatChanged, type ChangeRange } from './changes.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // an even minute: eu-north starts slow
const MIN = 60_000;
const TEN_MINUTES: ChangeRange = { startMs: T0, endMs: T0 + 10 * MIN - 1 };
const TEN_BEFORE: ChangeRange = { startMs: T0 - 10 * MIN, endMs: T0 - 1 };
const opts = { valuePerSample: NS_PER_SAMPLE };

/** Twenty minutes of the demo's load: eu-north slow in even minutes (periodS 60) or never (0). */
function demo(seed: number, periodS = 60) {
  return memoryChangeSource(
    rideshareWindows({ seed, startMs: T0 - 10 * MIN, durationMs: 20 * MIN, periodS }),
  );
}

describe('whatChanged on rideshare-like load', () => {
  it('the whole app over 10 minutes names eu-north and mutex_lock first, with its slow minutes', async () => {
    const r = await whatChanged(demo(7), TEN_MINUTES, null, opts);
    expect(r.labels).toEqual(['region', 'vehicle']);
    expect(r.findings[0]).toMatchObject({
      kind: 'periods',
      label: 'region',
      value: 'eu-north',
      function: 'mutex_lock',
    });
    const periods = r.periods.find((p) => p.value === 'eu-north')!;
    // Slow periods start in even minutes (the load's shape), and the example slow step is in one.
    for (const slow of periods.slow) expect(Math.floor((slow.startMs - T0) / MIN) % 2).toBe(0);
    expect(Math.floor((periods.slowExample.startMs - T0) / MIN) % 2).toBe(0);
    expect(Math.floor((periods.fastExample.startMs - T0) / MIN) % 2).toBe(1);
    expect(periods.fastShare).toBe(0);
  });

  it('for vehicle, car comes first', async () => {
    const r = await whatChanged(demo(7), TEN_MINUTES, null, { ...opts, labels: ['vehicle'] });
    expect(r.findings[0]).toMatchObject({ label: 'vehicle', value: 'car' });
    expect(r.outliers.map((o) => o.value)).toEqual(['car']);
  });

  it('against a baseline without the slow minutes: mutex_lock grew, carried by eu-north', async () => {
    const windows = [
      ...rideshareWindows({ seed: 1, startMs: T0 - 10 * MIN, durationMs: 10 * MIN, periodS: 0 }),
      ...rideshareWindows({ seed: 2, startMs: T0, durationMs: 10 * MIN, periodS: 60 }),
    ];
    const r = await whatChanged(memoryChangeSource(windows), TEN_MINUTES, TEN_BEFORE, opts);
    expect(r.grew[0]).toMatchObject({ name: 'mutex_lock', baseSamples: 0 });
    expect(r.grew[0]!.headSamples).toBeGreaterThan(1000);
    const region = r.explanations.find((e) => e.label === 'region')!;
    expect(region.values[0]!.value).toBe('eu-north');
    expect(region.values[0]!.carried).toBeCloseTo(1, 1);
    expect(r.findings[0]).toMatchObject({
      kind: 'changed',
      function: 'mutex_lock',
      label: 'region',
      value: 'eu-north',
    });
  });

  it('two ranges of unchanged load report nothing changed, over 20 seeds of both load shapes', async () => {
    for (let seed = 100; seed < 120; seed++) {
      for (const periodS of [60, 0]) {
        const r = await whatChanged(demo(seed, periodS), TEN_MINUTES, TEN_BEFORE, { ...opts, labels: [] });
        const changed = [...r.grew, ...r.shrank].map((f) => f.name);
        expect({ seed, periodS, changed, total: r.totalChange }).toEqual({
          seed,
          periodS,
          changed: [],
          total: null,
        });
      }
    }
  });

  it('eu-north taking three times the orders: the whole cost grew, carried by eu-north', async () => {
    const windows = [
      ...rideshareWindows({ seed: 1, startMs: T0 - 10 * MIN, durationMs: 10 * MIN, periodS: 0 }),
      ...rideshareWindows({
        seed: 2,
        startMs: T0,
        durationMs: 10 * MIN,
        periodS: 0,
        regionLoad: { 'eu-north': 3 },
      }),
    ];
    const r = await whatChanged(memoryChangeSource(windows), TEN_MINUTES, TEN_BEFORE, opts);
    expect(r.totalChange!.ratio).toBeGreaterThan(1.4);
    expect(r.totalChange!.carriedBy[0]).toMatchObject({ label: 'region', value: 'eu-north' });
    expect(r.totalChange!.carriedBy[0]!.carried).toBeGreaterThan(0.8);
    expect(r.findings[0]!.text).toMatch(/^the whole cost grew ×1\.\d\d .*in region=eu-north$/);
  });

  it('a baseline without data compares nothing (rather than calling every function new)', async () => {
    const empty = { startMs: T0 - 60 * MIN, endMs: T0 - 50 * MIN - 1 };
    const r = await whatChanged(demo(7), TEN_MINUTES, empty, opts);
    expect(r.baselineEmpty).toBe(true);
    expect([...r.grew, ...r.shrank]).toEqual([]);
    expect(r.findings[0]).toMatchObject({ value: 'eu-north', function: 'mutex_lock' });
  });

  it('steady load has outliers (car is heavier) but no slow periods', async () => {
    for (let seed = 200; seed < 210; seed++) {
      const r = await whatChanged(demo(seed, 0), TEN_MINUTES, null, opts);
      expect({ seed, periods: r.periods.map((p) => p.value) }).toEqual({ seed, periods: [] });
      expect(r.outliers[0]?.value).toBe('car');
    }
  });
});

/**
 * Unchanged steady load whose process starts `startsAfterMs` into the baseline (its first window
 * imports the app), and optionally stops for `gap` and starts again:
 *
 *   baseline (6 slices of 100 s)                  head (6 slices)
 *   started at 240 s:  |    |    | s### | ### | ### | ### |   | ### | ### | ### | ### | ### | ### |
 *   gap 200..300 s:    | ## | ## |      | s## | ### | ### |   | ### | ### | ### | ### | ### | ### |
 */
function startedLate(seed: number, startsAfterMs: number, gap?: { fromMs: number; toMs: number }) {
  const start = TEN_BEFORE.startMs + startsAfterMs;
  const end = TEN_MINUTES.endMs + 1;
  const run = (s: number, from: number, to: number, startupSamples?: number) =>
    rideshareWindows({
      seed: s,
      startMs: from,
      durationMs: to - from,
      periodS: 0,
      ...(startupSamples !== undefined ? { startupSamples } : {}),
    });
  if (gap === undefined) return memoryChangeSource(run(seed, start, end, STARTUP_SAMPLES));
  const g = { from: TEN_BEFORE.startMs + gap.fromMs, to: TEN_BEFORE.startMs + gap.toMs };
  return memoryChangeSource([...run(seed, start, g.from), ...run(seed + 1000, g.to, end, STARTUP_SAMPLES)]);
}
/** Imports in a process's first window: 4 s of CPU per series, as heavy as the start of the demo's apps. */
const STARTUP_SAMPLES = 400;
const SLICE_MS = 100_000;

describe('whatChanged against a baseline with incomplete coverage', () => {
  it('a baseline where the service starts 4.4 slices in: its one full slice is too little, nothing is compared', async () => {
    // Without coverage the five empty or start-up slices counted as runs (every share 0 in the empty
    // ones): 3 of these 20 seeds reported functions as changed, and all 20 with a start 5.4 slices in.
    for (let seed = 1; seed <= 20; seed++) {
      const r = await whatChanged(startedLate(seed, 4.4 * SLICE_MS), TEN_MINUTES, TEN_BEFORE, {
        ...opts,
        labels: [],
      });
      const changed = [...r.grew, ...r.shrank].map((f) => f.name);
      expect({ seed, changed, total: r.totalChange }).toEqual({ seed, changed: [], total: null });
      expect([r.baselineCoverage, r.headCoverage, r.baselineCompared]).toEqual([1 / 6, 1, null]);
      expect(r.coverageWarning).toBe(
        'the baseline has representative data in 1 of its 6 slices (the others are empty, hold less than half ' +
          'a typical slice, or follow an empty one: a start): fewer than half, so nothing was compared',
      );
    }
  });

  it('a baseline where the service starts 2.4 slices in: its three full slices are compared, nothing changed', async () => {
    // Seeds 183 and 187: three whole slices against six (not cut into shorter runs) reported noise as change.
    for (let seed = 180; seed < 190; seed++) {
      const r = await whatChanged(startedLate(seed, 2.4 * SLICE_MS), TEN_MINUTES, TEN_BEFORE, {
        ...opts,
        labels: [],
      });
      const changed = [...r.grew, ...r.shrank].map((f) => f.name);
      expect({ seed, changed, total: r.totalChange }).toEqual({ seed, changed: [], total: null });
      expect([r.baselineCoverage, r.headCoverage]).toEqual([3 / 6, 1]);
      expect(r.baselineCompared).toEqual({
        startMs: TEN_BEFORE.startMs + 3 * SLICE_MS,
        endMs: TEN_BEFORE.endMs,
      });
      expect(r.coverageWarning).toMatch(
        /^the baseline has representative data in 3 of its 6 slices .*: only those were compared$/,
      );
    }
  });

  it('a baseline with an empty slice (the service stopped, then started again): the restart is left out too', async () => {
    for (let seed = 310; seed < 320; seed++) {
      const r = await whatChanged(
        startedLate(seed, 0, { fromMs: 2 * SLICE_MS, toMs: 3 * SLICE_MS }),
        TEN_MINUTES,
        TEN_BEFORE,
        { ...opts, labels: [] },
      );
      const changed = [...r.grew, ...r.shrank].map((f) => f.name);
      expect({ seed, changed, total: r.totalChange }).toEqual({ seed, changed: [], total: null });
      expect(r.baselineCoverage).toBe(4 / 6);
    }
  });

  it('a baseline the service stopped 30 s into its last slice: that slice holds too little and is left out', async () => {
    const windows = [
      ...rideshareWindows({ seed: 5, startMs: TEN_BEFORE.startMs, durationMs: 5.3 * SLICE_MS, periodS: 0 }),
      ...rideshareWindows({ seed: 6, startMs: T0, durationMs: 10 * MIN, periodS: 0 }),
    ];
    const r = await whatChanged(memoryChangeSource(windows), TEN_MINUTES, TEN_BEFORE, {
      ...opts,
      labels: [],
    });
    expect([r.baselineCoverage, r.baselineCompared]).toEqual([
      5 / 6,
      { startMs: TEN_BEFORE.startMs, endMs: TEN_BEFORE.startMs + 5 * SLICE_MS - 1 },
    ]);
    expect([...r.grew, ...r.shrank, r.totalChange]).toEqual([null]);
  });

  it('a baseline with data in its last slice only compares nothing, and says why', async () => {
    const r = await whatChanged(startedLate(7, 9 * MIN), TEN_MINUTES, TEN_BEFORE, opts);
    expect(r.baselineEmpty).toBe(false);
    expect(r.baselineCoverage).toBe(0);
    expect([...r.grew, ...r.shrank, r.totalChange]).toEqual([null]);
    expect(r.coverageWarning).toMatch(/in 0 of its 6 slices .*: fewer than half, so nothing was compared$/);
    expect(r.findings[0]).toMatchObject({ kind: 'outlier', value: 'car' });
  });

  it('a real regression against a baseline that starts part-way is still found, on the compared slices', async () => {
    const windows = [
      ...rideshareWindows({
        seed: 1,
        startMs: TEN_BEFORE.startMs + 2.4 * SLICE_MS,
        durationMs: 10 * MIN - 2.4 * SLICE_MS,
        periodS: 0,
        startupSamples: STARTUP_SAMPLES,
      }),
      ...rideshareWindows({ seed: 2, startMs: T0, durationMs: 10 * MIN, periodS: 60 }),
    ];
    const r = await whatChanged(memoryChangeSource(windows), TEN_MINUTES, TEN_BEFORE, opts);
    expect(r.grew[0]).toMatchObject({ name: 'mutex_lock', baseSamples: 0 });
    expect(r.baselineCoverage).toBe(3 / 6);
    expect(r.findings[0]).toMatchObject({ function: 'mutex_lock', label: 'region', value: 'eu-north' });
    expect(r.findings[0]!.left.range).toEqual(r.baselineCompared);
    const region = r.explanations.find((e) => e.label === 'region')!;
    expect(region.values[0]!.carried).toBeCloseTo(1, 1);
  });
});

describe('periods from the timeline shape', () => {
  const S = 900;
  const F = 300;
  it('slow steps that come in runs are periods', () => {
    const steps = [S, S, S, S, F, F, F, F, S, S, S, S, F, F, F, F, S, S, S, S, F, F, F, F];
    const split = splitSlowFast(steps.map((v, i) => v + (i % 3) * 10))!;
    expect(split.slow.map((s) => (s ? 'S' : '.')).join('')).toBe('SSSS....SSSS....SSSS....');
    expect(split.runsZ).toBeLessThan(-2);
  });

  it('slow and fast taking turns step by step: periods as long as a step, once there are enough steps', () => {
    const turns = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? S : F) + (i % 3) * 10);
    expect(splitSlowFast(turns(12))).toBeNull(); // 12 steps could take turns by chance
    const split = splitSlowFast(turns(60))!;
    expect(split.runsZ).toBeGreaterThan(4);
    expect(
      split.slow
        .slice(0, 6)
        .map((s) => (s ? 'S' : '.'))
        .join(''),
    ).toBe('S.S.S.');
  });

  it('an hour of the demo load: the 60 s swing is found at 60 s steps', async () => {
    const hour = { startMs: T0, endMs: T0 + 60 * MIN - 1 };
    const src = memoryChangeSource(
      rideshareWindows({ seed: 3, startMs: T0, durationMs: 60 * MIN, periodS: 60 }),
    );
    const r = await whatChanged(src, hour, null, { ...opts, labels: ['region'] });
    expect(r.periods[0]).toMatchObject({ value: 'eu-north', function: 'mutex_lock', stepMs: MIN });
  });

  it('a flat timeline has no periods', () => {
    expect(splitSlowFast([500, 510, 490, 505, 495, 500, 502, 498])).toBeNull();
  });

  it('slices cover the range exactly, inclusive ends', () => {
    expect(sliceRange({ startMs: 0, endMs: 9 }, 3)).toEqual([
      { startMs: 0, endMs: 2 },
      { startMs: 3, endMs: 5 },
      { startMs: 6, endMs: 9 },
    ]);
  });
});
