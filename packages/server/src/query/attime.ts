// Time parameters of /render and friends (compat §4.6, Pyroscope's attime.Parse): digits are
// YYYYMMDD (8), ms (13), µs (16), ns (19) or else seconds; otherwise `now` with one offset (now-3h).

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  mon: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** ms since epoch, or null when `text` is not a time. */
export function parseAttime(text: string, nowMs: number): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (/^\d+$/.test(s)) {
    if (s.length === 8) {
      const ms = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
      return Number.isNaN(ms) ? null : ms;
    }
    const n = Number(s);
    if (s.length === 13) return n;
    if (s.length === 16) return Math.floor(n / 1000);
    if (s.length === 19) return Math.floor(Number(BigInt(s) / 1_000_000n));
    return n * 1000;
  }
  if (s === 'now') return nowMs;
  const m = /^now([+-])(\d+)(s|min|mon|m|h|d|w|M|y)$/.exec(s);
  if (m === null) return null;
  const delta = Number(m[2]) * UNIT_MS[m[3]!]!;
  return m[1] === '-' ? nowMs - delta : nowMs + delta;
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
