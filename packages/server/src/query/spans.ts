// Span profiles on the read path: the span and trace id selectors of Select* requests, span exemplars
// of SelectSeries, and GET /api/spans (the slowest spans of a selection, for the UI's Spans view).
// Span ids travel as 16 hex digits and are stored as 64-bit numbers; trace ids as 32 hex digits.

import { parseProfileTypeId } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import type { Limits } from '../limits.ts';
import type { SpanSelector, Store, TimeSeriesQuery } from '../store/types.ts';
import type { QueryContext } from './context.ts';
import { checkProfileType, checkRange, queryErrors } from './errors.ts';
import type { ExemplarMessage, SeriesMessage } from './messages.ts';
import { getOnly, param, timed, timeParam, type Query } from './render.ts';
import { parseMetricSelector } from './selector.ts';

/** As Pyroscope's span selector: exactly 16 hex digits (8 bytes); trace ids exactly 32 (16 bytes). */
const SPAN_ID = /^[0-9a-fA-F]{16}$/;
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const HOUR_MS = 3_600_000;

/** A span id as sent (16 hex digits) → its 64-bit value; 400 otherwise. */
export function parseSpanId(text: string): bigint {
  if (!SPAN_ID.test(text)) throw queryErrors.invalidSpanId(text);
  return BigInt(`0x${text}`);
}

/** A 64-bit span id as Pyroscope's clients write it: 16 lower-case hex digits. */
export function spanIdHex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

/**
 * The span selector of a request (span_selector and trace_id_selector), or undefined when it has
 * neither; every id is checked, and together they are at most Limits.maxSpansPerQuery.
 */
export function spanSelectorOf(
  spanIds: readonly string[],
  traceIds: readonly string[],
  limits: Limits,
): SpanSelector | undefined {
  if (spanIds.length === 0 && traceIds.length === 0) return undefined;
  const count = spanIds.length + traceIds.length;
  if (count > limits.maxSpansPerQuery)
    throw queryErrors.tooManySpans('spanSelector + traceIdSelector', limits.maxSpansPerQuery, count);
  return {
    spanIds: spanIds.map(parseSpanId),
    traceIds: traceIds.map((t) => {
      if (!TRACE_ID.test(t)) throw queryErrors.invalidTraceId(t);
      return t.toLowerCase();
    }),
  };
}

/** Whether SelectSeries' exemplarType asks for exemplars (INDIVIDUAL or SPAN: both are spans here). */
export function wantsExemplars(exemplarType: number): boolean {
  if (exemplarType === 0 || exemplarType === 1) return false;
  if (exemplarType === 2 || exemplarType === 3) return true;
  throw queryErrors.invalidExemplarType(exemplarType);
}

/**
 * Adds to each point of `series` the largest span of its group and step (types.v1.Exemplar with
 * span_id, trace_id and a `span_name` label); points without spans get none.
 */
export async function attachSpanExemplars(
  store: Store,
  q: TimeSeriesQuery,
  series: SeriesMessage[],
): Promise<void> {
  const rows = await store.spanExemplars(q);
  const groupBy = [...q.groupBy].sort();
  const keyOf = (labels: readonly { name: string; value: string }[]): string =>
    JSON.stringify(groupBy.map((n) => labels.find((l) => l.name === n)?.value ?? null));
  const best = new Map<string, ExemplarMessage & { total: number }>();
  for (const r of rows) {
    const key = `${keyOf(r.labels)}@${r.timestampMs}`;
    const b = best.get(key);
    if (b !== undefined && b.total >= r.total) continue;
    best.set(key, {
      timestampMs: r.timeMs,
      spanId: spanIdHex(r.spanId),
      traceId: r.traceId,
      value: Math.round(r.total),
      labels: r.name === '' ? [] : [{ name: 'span_name', value: r.name }],
      total: r.total,
    });
  }
  for (const s of series) {
    const key = keyOf(s.labels);
    for (const p of s.points) {
      const e = best.get(`${key}@${p.timestampMs}`);
      if (e === undefined) continue;
      const { total: _total, ...exemplar } = e;
      p.exemplars = [exemplar];
    }
  }
}

/**
 * GET /api/spans?query=<selector>&profileType=<id>&from=&until=&limit=: the spans of the selected
 * series in range, largest total first (the slowest requests). `query` may also carry the profile
 * type before its braces, as /pyroscope/render's does. Default range: the last hour.
 */
export function registerSpanRoutes(app: FastifyInstance, ctx: QueryContext): void {
  getOnly(
    app,
    '/api/spans',
    timed(ctx, 'spans', async (request) => {
      const q = request.query as Query;
      const text = param(q, 'query') ?? '';
      if (text.trim() === '') throw queryErrors.missingParameter('query');
      const { name, matchers } = parseMetricSelector(text);
      const typeId = name !== '' ? name : (param(q, 'profileType') ?? '');
      if (typeId === '') throw queryErrors.missingParameter('profileType');
      const type = checkProfileType(typeId);
      const now = ctx.now();
      const until = param(q, 'until') === undefined ? now : timeParam(q, 'until', now);
      const from = param(q, 'from') === undefined ? until - HOUR_MS : timeParam(q, 'from', now);
      checkRange(from, until, ctx.limits, 'from/until');
      const limit = limitParam(param(q, 'limit'), ctx.limits);
      const spans = await ctx.deps.store.spans({
        tenant: requestTenant(request),
        profileTypeId: type.id,
        matchers,
        startMs: from,
        endMs: until,
        limit,
      });
      return {
        unit: parseProfileTypeId(type.id)?.sampleUnit ?? '',
        spans: spans.map((s) => ({
          spanId: spanIdHex(s.spanId),
          spanName: s.name,
          traceId: s.traceId,
          value: s.total,
          samples: s.samples,
          firstMs: s.firstMs,
          lastMs: s.lastMs,
        })),
      };
    }),
  );
}

/** `limit`: default 50, a whole number from 1 to Limits.maxSpansPerQuery. */
function limitParam(raw: string | undefined, limits: Limits): number {
  if (raw === undefined || raw === '') return Math.min(50, limits.maxSpansPerQuery);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw queryErrors.invalidLimit('limit', raw);
  if (n > limits.maxSpansPerQuery) throw queryErrors.tooManySpans('limit', limits.maxSpansPerQuery, n);
  return n;
}
