// Tag explorer statistics: per label value, the average, standard deviation and total of its timeline
// and its share of the sum over all values.
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
