// Tag explorer statistics: per label value, the average, standard deviation and total of its timeline
// and its share of the sum over all values; the share chart's slices.
import type { Timeline } from './api.ts';

export interface GroupStat {
  readonly value: string;
  /** Mean per timeline bucket, in the profile's unit. */
  readonly avg: number;
  readonly stddev: number;
  readonly total: number;
  /** total / sum of all totals, 0..1. */
  readonly share: number;
}

/** Rows sorted by total, largest first. */
export function groupStats(groups: Readonly<Record<string, Timeline>>): GroupStat[] {
  const rows = Object.entries(groups).map(([value, t]) => {
    const n = t.samples.length || 1;
    const total = t.samples.reduce((a, b) => a + b, 0);
    const avg = total / n;
    const variance = t.samples.reduce((a, b) => a + (b - avg) * (b - avg), 0) / n;
    return { value, avg, stddev: Math.sqrt(variance), total, share: 0 };
  });
  const sum = rows.reduce((a, r) => a + r.total, 0);
  return rows
    .map((r) => ({ ...r, share: sum > 0 ? r.total / sum : 0 }))
    .sort((a, b) => b.total - a.total || (a.value < b.value ? -1 : 1));
}

/**
 * SVG paths of a pie of radius r (centred at r, r) with one slice per share (0..1, summing to 1),
 * clockwise from 12 o'clock in the given order; '' for an empty share.
 */
export function shareSlices(shares: readonly number[], r: number): string[] {
  const point = (turn: number): string => {
    const a = turn * 2 * Math.PI;
    return `${round(r + r * Math.sin(a))} ${round(r - r * Math.cos(a))}`;
  };
  let at = 0;
  return shares.map((share) => {
    const start = at;
    at += share;
    if (share <= 0) return '';
    // An arc cannot end where it starts: a whole circle is two half arcs.
    if (share >= 1) return `M ${r} 0 A ${r} ${r} 0 1 1 ${r} ${2 * r} A ${r} ${r} 0 1 1 ${r} 0 Z`;
    return `M ${r} ${r} L ${point(start)} A ${r} ${r} 0 ${share > 0.5 ? 1 : 0} 1 ${point(at)} Z`;
  });
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
