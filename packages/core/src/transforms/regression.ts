// Regression gate: per-function self/total shares of repeated base and head runs, their run-to-run
// noise, and the rules (`10%`, `find_nearest_vehicle=5%`) a head must pass. Pure.
//
// Shares, not values: CI machines differ in speed, so a function's fraction of the run's total is
// what is compared. A function at share s made x slower moves to s(1+x)/(1+sx): the growth of its
// share, s(1+x)/(1+sx)/s - 1 = (1+x)/(1+sx) - 1, is x for a small function and less for a wide one
// (40 % slower at s = 0.5 is +16.7 % of share).

import type { Profile } from '../model.ts';
import { TransformError } from './errors.ts';
import { topTable } from './top.ts';

/** `find (lib/util.py:71)` -> `find (lib/util.py)`: the lines of one function are one row. */
export function functionOf(frameName: string): string {
  return frameName.replace(/^(.* \([^()]*?):\d+\)$/, '$1)');
}

/** The same profile with frames renamed by functionOf (input untouched). */
export function byFunction(profile: Profile): Profile {
  return { ...profile, frames: { ...profile.frames, name: profile.frames.name.map(functionOf) } };
}

export interface SideStats {
  /** Mean over the runs of the function's self (leaf) value / the run's total. 0..1. */
  readonly selfShare: number;
  /** Mean over the runs of the function's total (on the stack) value / the run's total. 0..1. */
  readonly totalShare: number;
  /** Sample standard deviation of totalShare over the runs (0 with one run). */
  readonly totalShareSd: number;
  /** Mean over the runs of the function's total value in sampling periods (ticks); value if no period. */
  readonly samples: number;
}

export interface ShareChange {
  readonly name: string;
  readonly base: SideStats;
  readonly head: SideStats;
  /** head.selfShare - base.selfShare, in share points (0.05 = 5 points). */
  readonly selfDelta: number;
  readonly totalDelta: number;
  /** head.totalShare / base.totalShare - 1; Infinity for a function new in head. */
  readonly totalGrowth: number;
  readonly selfGrowth: number;
  /**
   * (head - base total share) / its standard error: the larger of the runs' own spread and the
   * sampling (binomial) noise of `samples` ticks. Above ~3 the change is not run-to-run noise.
   */
  readonly z: number;
}

export interface RunComparison {
  readonly baseRuns: number;
  readonly headRuns: number;
  /** Mean total value of a run, in the profiles' sample unit. */
  readonly baseTotal: number;
  readonly headTotal: number;
  readonly unit: string;
  /** Every function of either side, largest share change (self or total) first. */
  readonly functions: ShareChange[];
}

interface RunShares {
  readonly total: number;
  readonly ticksPerValue: number;
  readonly self: Map<string, number>;
  readonly fnTotal: Map<string, number>;
}

function sharesOf(profile: Profile): RunShares {
  const rows = topTable(byFunction(profile));
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) total += profile.samples.value[i]!;
  const self = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  // Functions are keyed by name (which holds the file for Python frames): a base run and a head
  // run of the same code name them alike even where their file paths are absolute and differ.
  for (const r of rows) {
    self.set(r.name, (self.get(r.name) ?? 0) + r.self);
    fnTotal.set(r.name, Math.max(fnTotal.get(r.name) ?? 0, r.total));
  }
  return { total, ticksPerValue: profile.period > 0 ? 1 / profile.period : 1, self, fnTotal };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

function side(runs: readonly RunShares[], name: string): SideStats & { shares: number[]; runTicks: number } {
  const shares = runs.map((r) => (r.total > 0 ? (r.fnTotal.get(name) ?? 0) / r.total : 0));
  const selfShares = runs.map((r) => (r.total > 0 ? (r.self.get(name) ?? 0) / r.total : 0));
  return {
    selfShare: mean(selfShares),
    totalShare: mean(shares),
    totalShareSd: Math.sqrt(variance(shares)),
    samples: mean(runs.map((r) => (r.fnTotal.get(name) ?? 0) * r.ticksPerValue)),
    shares,
    runTicks: mean(runs.map((r) => r.total * r.ticksPerValue)),
  };
}

/** Compares head runs with base runs (each at least one profile, all of one type). Pure. */
export function compareRuns(base: readonly Profile[], head: readonly Profile[]): RunComparison {
  const all = [...base, ...head];
  if (base.length === 0 || head.length === 0) {
    throw new TransformError('no_profile', 'compareRuns needs at least one base and one head profile', {
      expected: 'at least 1 profile per side',
      actual: `${base.length} base, ${head.length} head`,
    });
  }
  const type = all[0]!.type;
  for (const p of all) {
    if (p.type.id !== type.id) {
      throw new TransformError('profile_type_mismatch', `cannot compare ${type.id} with ${p.type.id}`, {
        expected: type.id,
        actual: p.type.id,
      });
    }
  }
  const b = base.map(sharesOf);
  const h = head.map(sharesOf);
  const names = new Set<string>();
  for (const r of [...b, ...h]) for (const n of r.fnTotal.keys()) names.add(n);
  const functions: ShareChange[] = [];
  for (const name of names) {
    const bs = side(b, name);
    const hs = side(h, name);
    // Pooled spread of one run's share: from the runs where there are several, never below the
    // binomial noise of sampling p out of n ticks, sqrt(p(1-p)/n).
    const dof = b.length - 1 + (h.length - 1);
    const pooled =
      dof > 0 ? (variance(bs.shares) * (b.length - 1) + variance(hs.shares) * (h.length - 1)) / dof : 0;
    const p = (bs.totalShare + hs.totalShare) / 2;
    const n = Math.max(1, Math.min(bs.runTicks, hs.runTicks));
    const perRun = Math.max(pooled, (p * (1 - p)) / n);
    const se = Math.sqrt(perRun * (1 / b.length + 1 / h.length));
    const totalDelta = hs.totalShare - bs.totalShare;
    functions.push({
      name,
      base: {
        selfShare: bs.selfShare,
        totalShare: bs.totalShare,
        totalShareSd: bs.totalShareSd,
        samples: bs.samples,
      },
      head: {
        selfShare: hs.selfShare,
        totalShare: hs.totalShare,
        totalShareSd: hs.totalShareSd,
        samples: hs.samples,
      },
      selfDelta: hs.selfShare - bs.selfShare,
      totalDelta,
      totalGrowth: growth(bs.totalShare, hs.totalShare),
      selfGrowth: growth(bs.selfShare, hs.selfShare),
      z: se > 0 ? totalDelta / se : totalDelta === 0 ? 0 : Math.sign(totalDelta) * Infinity,
    });
  }
  const change = (f: ShareChange) => Math.max(Math.abs(f.selfDelta), Math.abs(f.totalDelta));
  functions.sort((x, y) => change(y) - change(x) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return {
    baseRuns: base.length,
    headRuns: head.length,
    baseTotal: mean(b.map((r) => r.total)),
    headTotal: mean(h.map((r) => r.total)),
    unit: type.sampleUnit,
    functions,
  };
}

function growth(before: number, after: number): number {
  if (before === 0) return after === 0 ? 0 : Infinity;
  return after / before - 1;
}

export interface GateRule {
  /** Function the rule is for (matched against the start of its name); undefined = every function. */
  readonly fn?: string;
  /** Largest allowed growth of the total share: 0.1 = +10 %. */
  readonly maxGrowth: number;
}

export interface GateOptions {
  /** A function below this many ticks (mean per run, on both sides) is never failed. */
  readonly minSamples: number;
  /** A change must be at least this many standard errors to fail. */
  readonly minZ: number;
  /** The functions rules without a name apply to (e.g. the team's own code); all when absent. */
  readonly scope?: (name: string) => boolean;
}

export interface Violation {
  readonly rule: GateRule;
  readonly change: ShareChange;
}

/** `10%`, `0.1`, `find_nearest_vehicle=5%`; comma-separated. Returns null on a malformed rule. */
export function parseGateRules(text: string): GateRule[] | null {
  const rules: GateRule[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const eq = t.lastIndexOf('=');
    const fn = eq >= 0 ? t.slice(0, eq).trim() : undefined;
    const amount = (eq >= 0 ? t.slice(eq + 1) : t).trim();
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(amount);
    if (m === null || fn === '') return null;
    const maxGrowth = m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
    rules.push(fn === undefined ? { maxGrowth } : { fn, maxGrowth });
  }
  return rules.length > 0 ? rules : null;
}

function matches(rule: GateRule, name: string): boolean {
  return (
    rule.fn === undefined ||
    name === rule.fn ||
    name.startsWith(`${rule.fn} `) ||
    name.startsWith(`${rule.fn}(`)
  );
}

/**
 * The functions that break a rule: total share grown past the rule's limit, by at least minZ
 * standard errors, with at least minSamples ticks. A function named by a rule is held to that rule
 * only; the others in scope to the rules without a name (if any).
 */
export function checkGate(cmp: RunComparison, rules: readonly GateRule[], opts: GateOptions): Violation[] {
  const named = rules.filter((r) => r.fn !== undefined);
  const general = rules.filter((r) => r.fn === undefined);
  const out: Violation[] = [];
  for (const change of cmp.functions) {
    const own = named.filter((r) => matches(r, change.name));
    const apply = own.length > 0 ? own : opts.scope === undefined || opts.scope(change.name) ? general : [];
    if (Math.max(change.base.samples, change.head.samples) < opts.minSamples) continue;
    if (change.z < opts.minZ) continue;
    const broken = apply.find((r) => change.totalGrowth > r.maxGrowth);
    if (broken !== undefined) out.push({ rule: broken, change });
  }
  return out;
}
