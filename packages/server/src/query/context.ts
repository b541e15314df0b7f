// What the read path's handlers are given: QueryContext (querier, render, spans, rules...) with
// gated(), and DrilldownContext (ad hoc profiles, settings, feature flags). Its own module so the
// handlers and the modules that register them do not import each other.

import type { FastifyRequest } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import type { ServerDeps } from '../deps.ts';
import type { Limits } from '../limits.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/types.ts';
import { Deadline, type QueryGate } from './budget.ts';

export interface QueryContext {
  readonly deps: ServerDeps;
  readonly limits: Limits;
  readonly metrics: Metrics;
  /** Admission of queries (concurrency per tenant and in total); one per app. */
  readonly gate: QueryGate;
  now(): number;
}

/** Runs a query handler within the gate and its time budget (Limits.queryTimeoutMs). */
export function gated<T>(
  ctx: QueryContext,
  request: FastifyRequest,
  run: (deadline: Deadline) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(ctx.limits.queryTimeoutMs, ctx.now);
  return ctx.gate.run(requestTenant(request), deadline, () => run(deadline));
}

export interface DrilldownContext {
  readonly store: Store;
  readonly limits: Limits;
  now(): number;
  /** registerUnary options of a small request (a query-sized body). */
  readonly connectOptions: {
    readonly maxDecompressedBytes: number;
    readonly maxJsonDepth: number;
    onDone(path: string, seconds: number, status: number): void;
  };
}
