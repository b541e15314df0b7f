// Time parameters of /render and friends: attime (compat §4.6, parsed in ../attime.ts, shared with
// /ingest) in whole ms, and the timeline step derived from a range.

import { parseAttimeMs } from '../attime.ts';

/**
 * ms since epoch, floored to a whole ms (µs/ns input), or null when `text` is not a time; the
 * caller raises its own invalid_time error. Empty text is null; render treats absent/empty as now.
 * For ns input this floors ns/1000 (as a double) / 1e3: the exact floor of ns/1e6 for every time
 * before 2255-06-05 (ns/1000 < 2^53); later ones may land 1 ms high.
 */
export function parseAttime(text: string, nowMs: number): number | null {
  const t = parseAttimeMs(text, nowMs);
  return 'ms' in t ? Math.floor(t.ms) : null;
}

/**
 * Timeline step in seconds (compat §3.1, Pyroscope's CalcPointInterval): (until - from) / 1500,
 * at least 15 s, rounded by Grafana's roundInterval table. 1 h → 15 s, 24 h → 60 s, 7 d → 300 s.
 */
export function calcPointIntervalSec(fromMs: number, untilMs: number): number {
  const raw = (untilMs - fromMs) / 1000 / 1500;
  if (raw < 15) return 15;
  const table: [number, number][] = [
    [17.5, 15],
    [25, 20],
    [45, 30],
    [90, 60],
    [210, 120],
    [450, 300],
    [750, 600],
    [1050, 900],
    [1500, 1200],
    [2700, 1800],
    [5400, 3600],
    [9000, 7200],
    [16200, 10800],
    [32400, 21600],
    [86400, 43200],
    [604800, 86400],
    [1814400, 604800],
  ];
  for (const [upTo, step] of table) if (raw <= upTo) return step;
  return raw < 3628800 ? 30 * 86400 : 365 * 86400;
}
