// Bounded work per query: a gate that lets a few queries run per tenant and in total (the rest wait
// in a bounded per-tenant queue, then 429 too_many_queries), and a deadline per query checked between
// phases and inside long loops, which also yields to the event loop so /ready and ingest keep answering.

import type { Limits } from '../limits.ts';
import { queryErrors } from './errors.ts';

/** Macrotask turn: lets pending I/O (other requests) run before the caller continues. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The time budget of one query, started when the query arrives (waiting in the gate counts). */
export class Deadline {
  private readonly startedMs: number;

  constructor(
    readonly limitMs: number,
    /** ms clock; the server's injectable clock, so tests can move time. */
    private readonly now: () => number,
  ) {
    this.startedMs = now();
  }

  /** ms left, ≥ 0. */
  get remainingMs(): number {
    return Math.max(0, this.limitMs - (this.now() - this.startedMs));
  }

  /** Throws query_timeout once the budget is spent. */
  check(): void {
    const elapsed = this.now() - this.startedMs;
    if (elapsed > this.limitMs) throw queryErrors.queryTimeout(this.limitMs, elapsed);
  }

  /** Yields one event-loop turn, then checks: called every few tens of ms of synchronous work. */
  async pause(): Promise<void> {
    await nextTurn();
    this.check();
  }
}

/** A deadline that never expires and yields nothing extra: for callers outside a request. */
export const NO_DEADLINE: Deadline = new Deadline(Number.POSITIVE_INFINITY, () => 0);

interface Waiter {
  readonly tenant: string;
  readonly start: () => void;
}

/**
 * Admission of queries: at most `perTenant` running per tenant and `total` overall; others wait FIFO
 * (a waiter whose tenant is at its cap lets later ones of other tenants pass), at most `queuedPerTenant`
 * per tenant. Queries are CPU-bound on a shared loop, so running fewer at once finishes each sooner.
 */
export class QueryGate {
  private readonly running = new Map<string, number>();
  private runningTotal = 0;
  private readonly waiting: Waiter[] = [];
  private readonly queued = new Map<string, number>();

  constructor(private readonly caps: { perTenant: number; total: number; queuedPerTenant: number }) {}

  static fromLimits(limits: Limits): QueryGate {
    return new QueryGate({
      perTenant: limits.maxConcurrentQueriesPerTenant,
      total: limits.maxConcurrentQueries,
      queuedPerTenant: limits.maxQueuedQueriesPerTenant,
    });
  }

  /** Runs `fn` once admitted; 429 when the tenant's queue is full, 504 when the deadline passes while waiting. */
  async run<T>(tenant: string, deadline: Deadline, fn: () => Promise<T>): Promise<T> {
    await this.admit(tenant, deadline);
    try {
      deadline.check();
      return await fn();
    } finally {
      this.leave(tenant);
    }
  }

  private canStart(tenant: string): boolean {
    return this.runningTotal < this.caps.total && (this.running.get(tenant) ?? 0) < this.caps.perTenant;
  }

  private enter(tenant: string): void {
    this.running.set(tenant, (this.running.get(tenant) ?? 0) + 1);
    this.runningTotal++;
  }

  private admit(tenant: string, deadline: Deadline): Promise<void> {
    if (this.canStart(tenant)) {
      this.enter(tenant);
      return Promise.resolve();
    }
    const queued = this.queued.get(tenant) ?? 0;
    if (queued >= this.caps.queuedPerTenant)
      return Promise.reject(queryErrors.tooManyQueries(this.caps.queuedPerTenant, queued + 1, tenant));
    this.queued.set(tenant, queued + 1);
    return new Promise<void>((resolve, reject) => {
      const dequeue = () => {
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        const q = (this.queued.get(tenant) ?? 1) - 1;
        if (q === 0) this.queued.delete(tenant);
        else this.queued.set(tenant, q);
      };
      const timer = setTimeout(() => {
        dequeue();
        reject(queryErrors.queryTimeout(deadline.limitMs, deadline.limitMs - deadline.remainingMs));
      }, deadline.remainingMs);
      timer.unref();
      const waiter: Waiter = {
        tenant,
        start: () => {
          clearTimeout(timer);
          dequeue();
          this.enter(tenant);
          resolve();
        },
      };
      this.waiting.push(waiter);
    });
  }

  private leave(tenant: string): void {
    const n = (this.running.get(tenant) ?? 1) - 1;
    if (n === 0) this.running.delete(tenant);
    else this.running.set(tenant, n);
    this.runningTotal--;
    // Start the oldest waiters that may run now (another tenant's, if this one's are at their cap).
    for (let i = 0; i < this.waiting.length && this.runningTotal < this.caps.total;) {
      const w = this.waiting[i]!;
      if (this.canStart(w.tenant))
        w.start(); // removes itself from `waiting`
      else i++;
    }
  }

  /** Queries running now (for tests and metrics). */
  get runningCount(): number {
    return this.runningTotal;
  }
}
