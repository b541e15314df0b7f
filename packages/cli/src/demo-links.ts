// The demo guide's diff link: a fast and a slow eu-north period that really happened, derived from the
// rideshare load shape (examples/rideshare/lib/utility.py is_slow_period: periods counted from the
// epoch, the even ones slow), so the link opens two different ranges, not two copies of one.

import { CPU } from './commands/query.ts';

export interface RangeMs {
  readonly fromMs: number;
  readonly untilMs: number;
}

/** The last two complete periods before nowMs: one even (slow in eu-north), one odd (fast). */
export function lastSlowAndFastPeriods(nowMs: number, periodS: number): { slow: RangeMs; fast: RangeMs } {
  const periodMs = periodS * 1000;
  const current = Math.floor(nowMs / periodMs);
  const range = (k: number): RangeMs => ({ fromMs: k * periodMs, untilMs: (k + 1) * periodMs });
  const [a, b] = [current - 2, current - 1];
  return a % 2 === 0 ? { slow: range(a), fast: range(b) } : { slow: range(b), fast: range(a) };
}

/**
 * When, for a demo whose apps started at startMs, two whole periods have been recorded: the end of
 * the second complete period plus one upload interval (the last window's upload) and 5 s of slack.
 */
export function slowAndFastReadyAtMs(startMs: number, periodS: number, uploadIntervalS: number): number {
  const periodMs = periodS * 1000;
  const firstWhole = Math.floor(startMs / periodMs) + 1;
  return (firstWhole + 2) * periodMs + (uploadIntervalS + 5) * 1000;
}

/**
 * The diff view of eu-north: baseline the fast period, comparison the slow one (mutex_lock shows as
 * new), on a shared timeline that keeps four periods before and one after in view.
 */
export function slowAndFastDiffLink(uiBase: string, app: string, nowMs: number, periodS: number): string {
  const { slow, fast } = lastSlowAndFastPeriods(nowMs, periodS);
  const euNorth = '{region="eu-north"}';
  const q = new URLSearchParams({
    service: app,
    profileType: CPU,
    query: euNorth,
    from: String(fast.fromMs),
    until: String(fast.untilMs),
    rightQuery: euNorth,
    rightFrom: String(slow.fromMs),
    rightUntil: String(slow.untilMs),
    timelineFrom: String(Math.min(slow.fromMs, fast.fromMs) - 4 * periodS * 1000),
    timelineUntil: String(Math.max(slow.untilMs, fast.untilMs) + periodS * 1000),
  });
  return `${uiBase}comparison-diff?${q}`;
}
