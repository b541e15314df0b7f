// The read path's error catalogue (docs/errors.md "## Query"): every rejection of a query is a 400
// with a stable code and the facts (limit, actual value, parameter) in its details, except the
// query budget's (budget.ts): 429 too_many_queries and 504 query_timeout.

import { parseProfileTypeId, type ProfileType } from '@hotpath/core';
import { MAX_TIME_MS, MIN_TIME_MS } from '../attime.ts';
import { HotpathError } from '../errors.ts';
import type { Limits } from '../limits.ts';

function bad(
  code: string,
  message: string,
  details: Record<string, string | number | boolean> = {},
): HotpathError {
  return new HotpathError(code, 400, 'invalid_argument', message, details);
}

export const queryErrors = {
  // What changed? (changes.ts)
  invalidBaseline: (actual: string) =>
    bad(
      'invalid_baseline',
      `baseline ${JSON.stringify(actual.slice(0, 64))} is not "", "previous" or a shift such as 1h, 1d, 1w`,
      { actual: actual.slice(0, 64) },
    ),
  tooManyLabels: (limit: number, actual: number) =>
    bad('too_many_labels', `labels names ${actual} labels, the limit is ${limit}`, { limit, actual }),
  invalidThreshold: (param: string, actual: number) =>
    bad('invalid_threshold', `${param} must be a finite number >= 0, got ${actual}`, {
      param,
      actual: String(actual),
    }),

  missingTimeRange: (param: string) =>
    bad('missing_time_range', `${param}: start and end are required (ms since epoch, non-zero)`, { param }),
  invalidTimeRange: (startMs: number, endMs: number) =>
    bad('invalid_time_range', `start ${startMs} is after end ${endMs}`, { start: startMs, end: endMs }),
  rangeTooLong: (limitMs: number, actualMs: number) =>
    bad('query_range_too_long', `the query range is ${actualMs} ms, the limit is ${limitMs} ms`, {
      limit: limitMs,
      actual: actualMs,
    }),
  missingProfileType: () =>
    bad(
      'missing_profile_type',
      'profileTypeID is required, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds',
    ),
  invalidProfileType: (id: string) =>
    bad(
      'invalid_profile_type',
      `profile type ${JSON.stringify(id)} is not <name>:<sample type>:<sample unit>:<period type>:<period unit>`,
      {
        actual: id,
      },
    ),
  missingLabelSelector: () =>
    bad('missing_label_selector', 'labelSelector is required; use {} to select every series'),
  maxNodesTooLarge: (limit: number, actual: number) =>
    bad('max_nodes_too_large', `maxNodes is ${actual}, the limit is ${limit}`, { limit, actual }),
  invalidMaxNodes: (actual: number | string) =>
    bad('invalid_max_nodes', `maxNodes must be >= 0, got ${actual}`, { actual }),
  missingStep: () => bad('missing_step', 'step (seconds, > 0) is required'),
  missingParameter: (param: string) =>
    bad('missing_parameter', `query parameter '${param}' is required`, { param }),
  missingLabelName: () => bad('missing_label_name', 'the label name is required'),
  profileTypeMismatch: (left: string, right: string) =>
    bad('profile_type_mismatch', `left profile type ${left} differs from right ${right}`, { left, right }),
  missingDiffSide: (side: 'left' | 'right') =>
    bad('missing_diff_side', `the ${side} side of the diff is required`, { side }),
  invalidTime: (param: string, value: string) =>
    bad(
      'invalid_time',
      `${param}=${JSON.stringify(value)} is not a time between 1970 and 9999 (ms/s/µs/ns digits, YYYYMMDD, now or now-1h)`,
      { param, actual: value },
    ),
  invalidSpanId: (value: string) =>
    bad('invalid_span_id', `span id ${JSON.stringify(value.slice(0, 64))} is not 16 hex digits`, {
      actual: value.slice(0, 64),
    }),
  invalidTraceId: (value: string) =>
    bad('invalid_trace_id', `trace id ${JSON.stringify(value.slice(0, 64))} is not 32 hex digits`, {
      actual: value.slice(0, 64),
    }),
  tooManySpans: (param: string, limit: number, actual: number) =>
    bad('too_many_spans', `${param} asks for ${actual} spans, the limit is ${limit}`, {
      param,
      limit,
      actual,
    }),
  invalidExemplarType: (actual: number) =>
    bad('invalid_exemplar_type', `exemplarType ${actual} is not NONE (1), INDIVIDUAL (2) or SPAN (3)`, {
      actual,
    }),
  invalidSelector: (text: string, column: number, what: string) =>
    bad('invalid_selector', `invalid selector at column ${column}: ${what} in ${JSON.stringify(text)}`, {
      column,
      selector: text.length > 200 ? `${text.slice(0, 200)}…` : text,
    }),
  tooManyQueries: (limit: number, actual: number, tenant: string) =>
    new HotpathError(
      'too_many_queries',
      429,
      'resource_exhausted',
      `tenant ${tenant} has ${actual} queries waiting, the limit is ${limit}; retry later`,
      // Seconds for the Retry-After header (sendError copies it).
      { limit, actual, retry_after_s: 1 },
    ),
  queryTimeout: (limitMs: number, actualMs: number) =>
    new HotpathError(
      'query_timeout',
      504,
      'deadline_exceeded',
      `the query ran ${Math.round(actualMs)} ms, the limit is ${limitMs} ms; narrow the time range or the selector`,
      { limit: limitMs, actual: Math.round(actualMs) },
    ),
  invalidAggregation: (actual: number) =>
    bad('invalid_aggregation', `aggregation ${actual} is not SUM (0) or AVERAGE (1)`, { actual }),
  invalidLimit: (param: string, value: string) =>
    bad('invalid_limit', `${param}=${JSON.stringify(value.slice(0, 64))} is not a whole number >= 1`, {
      param,
      actual: value.slice(0, 64),
    }),
};

/** Validates a Connect time range: both ends required, start ≤ end, length within the limit. */
export function checkRange(start: number, end: number, limits: Limits, what = 'start/end'): void {
  if (start === 0 || end === 0) throw queryErrors.missingTimeRange(what);
  for (const [param, ms] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (!(ms >= MIN_TIME_MS && ms <= MAX_TIME_MS)) throw queryErrors.invalidTime(param, String(ms));
  }
  if (start > end) throw queryErrors.invalidTimeRange(start, end);
  if (end - start > limits.maxQueryRangeMs)
    throw queryErrors.rangeTooLong(limits.maxQueryRangeMs, end - start);
}

export function checkProfileType(id: string): ProfileType {
  if (id === '') throw queryErrors.missingProfileType();
  const t = parseProfileTypeId(id);
  if (t === null) throw queryErrors.invalidProfileType(id);
  return t;
}

/** maxNodes: absent or 0 → the default; negative or above the maximum → 400. */
export function resolveMaxNodes(requested: number | undefined, limits: Limits): number {
  if (requested === undefined || requested === 0) return limits.defaultMaxNodes;
  if (requested < 0) throw queryErrors.invalidMaxNodes(requested);
  if (requested > limits.maxMaxNodes) throw queryErrors.maxNodesTooLarge(limits.maxMaxNodes, requested);
  return requested;
}
