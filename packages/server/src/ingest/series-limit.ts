// The per-tenant active series limit (Pyroscope ingester.max-global-series-per-tenant, 429).
// "Active" = written within the last `windowMs` by this process; the set is rebuilt from traffic
// after a restart (a restart can therefore admit up to one window's worth of extra series).

import { formatLabels, functionId, type Labels } from '@hotpath/core';
import { IngestErrors } from './errors.ts';

export class SeriesLimiter {
  /** tenant → (53 bits of the series hash → last seen ms); numbers, not label text, to keep heap small (B9). */
  private readonly lastSeen = new Map<string, Map<number, number>>();

  constructor(
    /** 0 = unlimited. */
    private readonly limit: number,
    private readonly windowMs = 60 * 60 * 1000,
  ) {}

  /** Throws series_limit when the new series of this request would exceed the limit; else records them. */
  admit(tenant: string, labelSets: readonly Labels[], nowMs: number): void {
    let seen = this.lastSeen.get(tenant);
    if (seen === undefined) this.lastSeen.set(tenant, (seen = new Map()));
    const keys = [
      ...new Set(labelSets.map((l) => Number(functionId(tenant, formatLabels(l)) & 0x1fffffffffffffn))),
    ];
    const fresh = keys.filter((k) => !seen.has(k));
    if (this.limit > 0 && fresh.length > 0 && seen.size + fresh.length > this.limit) {
      for (const [k, t] of seen) if (t < nowMs - this.windowMs) seen.delete(k);
      if (seen.size + fresh.length > this.limit)
        throw IngestErrors.seriesLimit(this.limit, seen.size + fresh.length, tenant);
    }
    for (const k of keys) seen.set(k, nowMs);
  }

  /** Active series of a tenant (as last counted). */
  count(tenant: string): number {
    return this.lastSeen.get(tenant)?.size ?? 0;
  }
}
