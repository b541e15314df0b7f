// Pyroscope's attime.Parse (compat spec §4.6), shared by /ingest `from`/`until` and /render's time
// parameters; each caller turns a failure into its own coded error.
// Digits only: 8 → YYYYMMDD (UTC), 13 → ms, 16 → µs, 19 → ns, any other length → seconds.
// Otherwise `now` or `now` with one signed offset: now-3h, now+30min (now-3h30m is not a time).

/** ms per offset unit: s, m|min, h, d, w, M|mon (30 d), y (365 d). */
const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['s', 1000],
  ['m', 60_000],
  ['min', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 7 * 86_400_000],
  ['M', 30 * 86_400_000],
  ['mon', 30 * 86_400_000],
  ['y', 365 * 86_400_000],
]);

/**
 * Times are bounded to 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z: every time inside is an
 * exact integer of ms, a valid Date and a valid ClickHouse/DuckDB time, so no caller meets Infinity,
 * a negative epoch or an `Invalid time value` further down.
 */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A parsed time in ms since epoch, or why the text is not a time (a message fragment). */
export type Attime = { readonly ms: number } | { readonly reason: string };

/**
 * Parses `text` (trimmed) against `nowMs`. `ms` is fractional for µs and ns input
 * (e.g. 1767225600123456 → 1767225600123.456); callers wanting whole ms floor it.
 * Empty text is a failure: each route decides what an absent parameter means.
 */
export function parseAttimeMs(text: string, nowMs: number): Attime {
  const t = parseUnbounded(text.trim(), nowMs);
  if ('ms' in t && !(t.ms >= MIN_TIME_MS && t.ms <= MAX_TIME_MS))
    return { reason: 'not between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z' };
  return t;
}

function parseUnbounded(s: string, nowMs: number): Attime {
  if (/^\d+$/.test(s)) {
    if (s.length === 8) {
      const ms = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
      return Number.isNaN(ms) ? { reason: 'not a valid YYYYMMDD date' } : { ms };
    }
    const n = Number(s);
    switch (s.length) {
      case 13:
        return { ms: n };
      case 16:
        return { ms: n / 1e3 };
      case 19:
        // Above 2^53 ns: go through bigint to keep the ms part exact.
        return { ms: Number(BigInt(s) / 1000n) / 1e3 };
      default:
        return { ms: n * 1000 };
    }
  }
  if (s === 'now') return { ms: nowMs };
  const m = /^now([+-])(\d+)([a-zA-Z]+)$/.exec(s);
  if (m !== null) {
    const unit = UNIT_MS.get(m[3]!);
    if (unit === undefined) return { reason: `unknown unit '${m[3]}'; use s, m, h, d, w, M or y` };
    return { ms: nowMs + (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit };
  }
  return { reason: 'expected unix time in s, ms, µs or ns, YYYYMMDD, now or now-<n><unit>' };
}
