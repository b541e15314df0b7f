// Per-tenant ingest rate limits: token buckets for request bytes and for profiles, refilled at a
// sustained rate up to a burst. Costs are weighted (one request may carry 1 profile or 10,000), which
// is why Hotpath does not use a request-counting limiter such as @fastify/rate-limit. Per process:
// behind N replicas a tenant may send N times the rate.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendError } from '../connect/unary.ts';
import type { Limits } from '../limits.ts';
import { AuthErrors } from './errors.ts';
import { requestTenant } from './hook.ts';

/** A token bucket; `take` may drive it below zero once, so a cost above the burst still passes when the bucket is full. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    /** Tokens added per second. */
    readonly ratePerSecond: number,
    /** Most tokens held. */
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes `cost` and returns 0, or returns the seconds until it could be taken (nothing taken). */
  take(cost: number, nowMs: number): number {
    this.tokens = Math.min(
      this.burst,
      this.tokens + (Math.max(0, nowMs - this.lastMs) / 1000) * this.ratePerSecond,
    );
    this.lastMs = nowMs;
    if (cost <= this.tokens || this.tokens >= this.burst) {
      this.tokens -= cost;
      return 0;
    }
    // Wait until the bucket holds the cost, or is full for a cost above the burst.
    const needed = Math.min(cost, this.burst) - this.tokens;
    return Math.max(1, Math.ceil(needed / this.ratePerSecond));
  }
}

/** Buckets above this many tenants are dropped oldest-first (a dropped tenant starts again full). */
const MAX_TRACKED_TENANTS = 100_000;

export class IngestRateLimiter {
  private readonly bytes = new Map<string, TokenBucket>();
  private readonly profiles = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: Pick<
      Limits,
      'ingestBytesPerSecond' | 'ingestBurstBytes' | 'ingestProfilesPerSecond' | 'ingestBurstProfiles'
    >,
    /** Monotonic ms. */
    private readonly clockMs: () => number = () => performance.now(),
  ) {}

  /** Charges a request's body bytes (before decompression); throws rate_limited (429). */
  takeBytes(tenant: string, bytes: number): void {
    const { ingestBytesPerSecond: rate, ingestBurstBytes: burst } = this.limits;
    this.charge(this.bytes, tenant, 'bytes', rate, burst, bytes);
  }

  /** Charges the profiles of a decoded request; throws rate_limited (429). */
  takeProfiles(tenant: string, count: number): void {
    const { ingestProfilesPerSecond: rate, ingestBurstProfiles: burst } = this.limits;
    this.charge(this.profiles, tenant, 'profiles', rate, burst, count);
  }

  private charge(
    buckets: Map<string, TokenBucket>,
    tenant: string,
    unit: 'bytes' | 'profiles',
    rate: number,
    burst: number,
    cost: number,
  ): void {
    if (rate <= 0 || cost <= 0) return;
    const now = this.clockMs();
    let bucket = buckets.get(tenant);
    if (bucket === undefined) {
      if (buckets.size >= MAX_TRACKED_TENANTS) buckets.delete(buckets.keys().next().value!);
      buckets.set(tenant, (bucket = new TokenBucket(rate, Math.max(burst, rate), now)));
    }
    const wait = bucket.take(cost, now);
    if (wait > 0) throw AuthErrors.rateLimited(tenant, unit, rate, bucket.burst, cost, wait);
  }
}

/**
 * Charges each write request's body bytes to its tenant's bucket: from Content-Length before the body
 * is read, or, for a chunked body, from its length once read (still before it is decoded). Runs after
 * the auth guard, which names the tenant.
 */
export function chargeIngestBytes(app: FastifyInstance, limiter: IngestRateLimiter): void {
  const charged = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', async (request, reply) => {
    const length = Number(request.headers['content-length']);
    if (!Number.isFinite(length) || request.hotpathIdentity === null) return;
    try {
      limiter.takeBytes(requestTenant(request), length);
      charged.add(request);
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.addHook('preHandler', async (request, reply) => {
    if (charged.has(request) || request.hotpathIdentity === null) return;
    const body = request.body;
    const length =
      body instanceof Uint8Array ? body.length : typeof body === 'string' ? Buffer.byteLength(body) : 0;
    try {
      limiter.takeBytes(requestTenant(request), length);
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
