// Rideshare-like CPU load with the demo's shape (examples/rideshare/lib/utility.py): three regions and
// three vehicles, a car order doing more work (check_driver_availability), and eu-north taking
// mutex_lock in even periods only. Seeded and Poisson-noisy, one 10 s window per (region, vehicle)
// as the SDK uploads them; for "what changed?" tests and bench B12. Not exported from @hotpath/core.

import { ProfileBuilder } from '../builder.ts';
import { makeProfileType, type Profile, type ProfileType } from '../model.ts';
import { seededRandom } from '../random.ts';
import { mergeProfiles } from '../transforms/merge.ts';
import type { ChangeRange, ChangeSource, LabelEq, ValueSeries } from '../transforms/changes.ts';

export const RIDESHARE_APP = 'ride-sharing-app';
export const RIDESHARE_REGIONS = ['us-east', 'eu-north', 'ap-south'] as const;
export const RIDESHARE_VEHICLES = ['bike', 'scooter', 'car'] as const;
export const CPU_TYPE: ProfileType = makeProfileType(
  'process_cpu',
  'cpu',
  'nanoseconds',
  'cpu',
  'nanoseconds',
);
/** 100 Hz: one sample is 10 ms of CPU. */
export const NS_PER_SAMPLE = 1e7;

export interface RideshareOptions {
  readonly seed: number;
  readonly startMs: number;
  readonly durationMs: number;
  /** Upload window (default 10 s). */
  readonly windowMs?: number;
  /** eu-north's slow/fast period in seconds (default 60): slow in even periods. 0 = never slow. */
  readonly periodS?: number;
  /** Orders per (region, vehicle) per window, mean (default 2.5). */
  readonly orders?: number;
  /** Load of a region as a multiple of `orders` (default 1 each). */
  readonly regionLoad?: Readonly<Record<string, number>>;
  /** The process starts at startMs: its first window also imports the app, this many samples per series (mean). */
  readonly startupSamples?: number;
}

export interface RideshareWindow {
  readonly timeMs: number;
  readonly durationMs: number;
  readonly labels: { readonly region: string; readonly vehicle: string };
  /** Root-first frame names and their sample counts. */
  readonly stacks: { readonly frames: readonly string[]; readonly samples: number }[];
}

/** Samples per order (100 Hz × the demo's search radius in seconds). */
const FIND_SAMPLES = { bike: 20, scooter: 30, car: 40 } as const;
const CHECK_SAMPLES = 20;
/** mutex_lock(n) busy-loops 10n s (4 s for a car), cut at the period's end: one core at 100 Hz. */
const MUTEX_SAMPLES = 400;
const CORE_SAMPLES_PER_S = 100;
const SERVE_SAMPLES = 3;
/** Start-up work seen only in a process's first window (imports before the server serves). */
const STARTUP_FRAMES = ['main', '<module>', '_find_and_load', 'exec_module'];

function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * g));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}

export function isSlowPeriod(timeMs: number, periodS: number): boolean {
  return periodS > 0 && Math.floor(timeMs / 1000 / periodS) % 2 === 0;
}

export function rideshareWindows(o: RideshareOptions): RideshareWindow[] {
  const rand = seededRandom(o.seed);
  const windowMs = o.windowMs ?? 10_000;
  const periodS = o.periodS ?? 60;
  const out: RideshareWindow[] = [];
  for (let t = o.startMs; t + windowMs <= o.startMs + o.durationMs; t += windowMs) {
    for (const region of RIDESHARE_REGIONS) {
      for (const vehicle of RIDESHARE_VEHICLES) {
        const orders = poisson(rand, (o.orders ?? 2.5) * (o.regionLoad?.[region] ?? 1));
        const order = ['main', 'handle_request', 'order', `order_${vehicle}`];
        const find = [...order, 'find_nearest_vehicle'];
        const stacks = [
          { frames: ['main', 'serve_forever'], samples: poisson(rand, SERVE_SAMPLES) },
          { frames: find, samples: poisson(rand, FIND_SAMPLES[vehicle] * orders) },
        ];
        if (o.startupSamples !== undefined && t === o.startMs)
          stacks.push({ frames: STARTUP_FRAMES, samples: poisson(rand, o.startupSamples) });
        if (vehicle === 'car') {
          const check = [...find, 'check_driver_availability'];
          stacks.push({ frames: check, samples: poisson(rand, CHECK_SAMPLES * orders) });
          if (region === 'eu-north' && isSlowPeriod(t, periodS)) {
            const core = (CORE_SAMPLES_PER_S * windowMs) / 1000;
            const mutex = Math.min(poisson(rand, MUTEX_SAMPLES * orders), core);
            stacks.push({ frames: [...check, 'mutex_lock'], samples: mutex });
          }
        }
        out.push({
          timeMs: t,
          durationMs: windowMs,
          labels: { region, vehicle },
          stacks: stacks.filter((s) => s.samples > 0),
        });
      }
    }
  }
  return out;
}

/** The `/ingest` path and query that push a window as folded text (`.cpu`: samples at 100 Hz). */
export function ingestPathOf(w: RideshareWindow): string {
  const q = new URLSearchParams({
    name: `${RIDESHARE_APP}.cpu{region=${w.labels.region},vehicle=${w.labels.vehicle}}`,
    from: String(w.timeMs / 1000),
    until: String((w.timeMs + w.durationMs) / 1000),
    format: 'folded',
  });
  return `/ingest?${q}`;
}

/** Folded text of a window (`a;b;c samples` lines), as `hotpath ingest --format folded` takes it. */
export function foldedOf(w: RideshareWindow): string {
  return w.stacks.map((s) => `${s.frames.join(';')} ${s.samples}`).join('\n') + '\n';
}

function emptyProfile(type: ProfileType): Profile {
  return new ProfileBuilder([type]).build()[0]!;
}

function profileOf(w: RideshareWindow): Profile {
  const b = new ProfileBuilder([CPU_TYPE]);
  for (const s of w.stacks) b.sample(b.stackOf(s.frames.map((f) => b.frame(f))), [s.samples * NS_PER_SAMPLE]);
  return b.build()[0]!;
}

/** A ChangeSource over windows in memory, with the store's range and bucket rules (inclusive ends). */
export function memoryChangeSource(windows: readonly RideshareWindow[]): ChangeSource {
  const profiles = windows.map(profileOf);
  const labelOf = (w: RideshareWindow, name: string): string | undefined =>
    (w.labels as Record<string, string>)[name];
  const selected = (range: ChangeRange, where: readonly LabelEq[]) =>
    windows
      .map((w, i) => ({ w, p: profiles[i]! }))
      .filter(
        ({ w }) =>
          w.timeMs >= range.startMs &&
          w.timeMs <= range.endMs &&
          where.every((m) => labelOf(w, m.name) === m.value),
      );
  return {
    async profile(range, where) {
      const picked = selected(range, where).map((x) => x.p);
      return picked.length > 0 ? mergeProfiles(picked) : emptyProfile(CPU_TYPE);
    },
    async series(range, label, stepMs): Promise<ValueSeries[]> {
      const groups = new Map<string, Map<number, number>>();
      for (const { w, p } of selected(range, [])) {
        const value = label === null ? '' : (labelOf(w, label) ?? '');
        const t = range.startMs + Math.floor((w.timeMs - range.startMs) / stepMs) * stepMs;
        const g = groups.get(value) ?? new Map<number, number>();
        groups.set(value, g);
        let total = 0;
        for (let i = 0; i < p.samples.length; i++) total += p.samples.value[i]!;
        g.set(t, (g.get(t) ?? 0) + total);
      }
      return [...groups.entries()].map(([value, g]) => {
        const times = [...g.keys()].sort((a, b) => a - b);
        return { value, timesMs: times, values: times.map((t) => g.get(t)!) };
      });
    },
    async labelNames() {
      return ['region', 'service_name', 'vehicle'];
    },
  };
}
