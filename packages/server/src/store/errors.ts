// The store's error catalogue (docs/errors.md "## Store"): configuration, a store that is closed or
// unreachable, a bad query argument that reached a store, and results a store cannot read.

import { HotpathError } from '../errors.ts';

const invalid = (code: string, message: string, details: Record<string, string | number> = {}) =>
  new HotpathError(code, 400, 'invalid_argument', message, details);

export const storeErrors = {
  storeConfig: (why: string) => invalid('store_config', why),
  storeClosed: () => new HotpathError('store_closed', 503, 'unavailable', 'the store is closed'),
  storeNotReady: () =>
    new HotpathError('store_not_ready', 503, 'unavailable', 'the store is not initialised yet'),
  /** A ClickHouse that cannot answer now (unreachable, overloaded, a shard away): retry later. */
  storeUnavailable: (message: string, details: Record<string, string | number>) =>
    new HotpathError('store_unavailable', 503, 'unavailable', message, details),
  /** A store that answered with an error or a result it cannot read. */
  storeError: (message: string, details: Record<string, string | number> = {}) =>
    new HotpathError('store_error', 500, 'internal', message, details),
  unknownStack: (id: bigint) =>
    new HotpathError(
      'unknown_stack',
      500,
      'internal',
      `stack id ${id} is neither in the batch nor in the store`,
    ),
  invalidStep: (stepMs: number, what = 'step') =>
    invalid('invalid_step', `${what} must be > 0 ms, got ${stepMs}`),
  /** A time that is not a finite number (NaN, Infinity) reached SQL. */
  notFinite: (what: string, actual: number) =>
    invalid('invalid_argument', `${what} must be a finite number, got ${actual}`),
  invalidMatcher: (label: string, regex: string, why: string) =>
    invalid('invalid_matcher', `regex ${JSON.stringify(regex)} of label ${label} is invalid: ${why}`, {
      label,
    }),
  stackFilterTooLarge: (limit: number, actual: number) =>
    invalid(
      'stack_filter_too_large',
      `the selection samples more than ${limit} distinct stacks in range, too many to filter by function on ClickHouse; narrow the range or the selector`,
      { limit, actual },
    ),
  clickhouseClusterUnknown: (url: string, cluster: string) =>
    new HotpathError(
      'clickhouse_cluster_unknown',
      400,
      'failed_precondition',
      `ClickHouse at ${url} has no cluster ${JSON.stringify(cluster)} in its remote_servers configuration`,
      { url, cluster },
    ),
  invalidClickhouseName: (what: string, name: string) =>
    invalid(
      'invalid_clickhouse_name',
      `ClickHouse ${what} ${JSON.stringify(name)} must match [A-Za-z_][A-Za-z0-9_]*`,
    ),
  invalidClickhouseUrl: (url: string, why: string) =>
    invalid('invalid_clickhouse_url', `ClickHouse URL ${JSON.stringify(url)} ${why}`),
} as const;
