// The active series limits: per tenant (Pyroscope ingester.max-global-series-per-tenant, 429), and,
// because without auth a caller can name any tenant, on the number of tenants and on the series of
// all tenants together. "Active" = written within the last `windowMs` by this process; the set is
// rebuilt from traffic after a restart (a restart can therefore admit up to one window's worth of
// extra series).

import { formatLabels, functionId, type Labels } from '@hotpath/core';
import { IngestErrors } from './errors.ts';

/** Each limit: 0 = unlimited. */
export interface SeriesLimits {
  readonly perTenant: number;
  readonly tenants: number;
  readonly total: number;
}

export class SeriesLimiter {
  /** tenant → (53 bits of the series hash → last seen ms); numbers, not label text, to keep heap small (B9). */
  private readonly lastSeen = new Map<string, Map<number, number>>();
  private readonly limits: SeriesLimits;
  /** Series of all tenants in lastSeen. */
  private total = 0;

  constructor(
    /** A number is the per-tenant limit alone (tenants and total unlimited). */
    limits: number | SeriesLimits,
    private readonly windowMs = 60 * 60 * 1000,
  ) {
    this.limits = typeof limits === 'number' ? { perTenant: limits, tenants: 0, total: 0 } : limits;
  }

  /**
   * Throws series_limit, tenant_limit or total_series_limit when the new series of this request would
   * exceed a limit; else records them.
   */
  admit(tenant: string, labelSets: readonly Labels[], nowMs: number): void {
    const { perTenant, tenants, total } = this.limits;
    let seen = this.lastSeen.get(tenant);
    const keys = [
      ...new Set(labelSets.map((l) => Number(functionId(tenant, formatLabels(l)) & 0x1fffffffffffffn))),
    ];
    const fresh = seen === undefined ? keys : keys.filter((k) => !seen!.has(k));
    if (fresh.length === 0 && seen !== undefined) {
      for (const k of keys) seen.set(k, nowMs);
      return;
    }
    if (seen === undefined && tenants > 0 && this.lastSeen.size + 1 > tenants) {
      this.expireAll(nowMs);
      if (this.lastSeen.size + 1 > tenants)
        throw IngestErrors.tenantLimit(tenants, this.lastSeen.size + 1, tenant);
    }
    seen = this.lastSeen.get(tenant) ?? new Map<number, number>();
    if (perTenant > 0 && seen.size + fresh.length > perTenant) {
      this.expire(seen, nowMs);
      if (seen.size + fresh.length > perTenant)
        throw IngestErrors.seriesLimit(perTenant, seen.size + fresh.length, tenant);
    }
    if (total > 0 && this.total + fresh.length > total) {
      this.expireAll(nowMs);
      if (this.total + fresh.length > total)
        throw IngestErrors.totalSeriesLimit(total, this.total + fresh.length);
    }
    if (!this.lastSeen.has(tenant)) this.lastSeen.set(tenant, seen);
    for (const k of keys) {
      if (!seen.has(k)) this.total++;
      seen.set(k, nowMs);
    }
  }

  /** Active series of a tenant (as last counted). */
  count(tenant: string): number {
    return this.lastSeen.get(tenant)?.size ?? 0;
  }

  /** Drops the series of one tenant not written within the window. */
  private expire(seen: Map<number, number>, nowMs: number): void {
    for (const [k, t] of seen) {
      if (t < nowMs - this.windowMs) {
        seen.delete(k);
        this.total--;
      }
    }
  }

  /** Drops stale series of every tenant, and tenants left without any (only when a cap is reached). */
  private expireAll(nowMs: number): void {
    for (const [tenant, seen] of this.lastSeen) {
      this.expire(seen, nowMs);
      if (seen.size === 0) this.lastSeen.delete(tenant);
    }
  }
}
