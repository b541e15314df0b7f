// Every limit of the server with its default, in one place (DESIGN.md "Limits in one place").
// Defaults follow Grafana Pyroscope's (pkg/validation/limits.go) unless noted.

export interface Limits {
  /** Request body before decompression (distributor.ingestion-body-limit-mb = 256 MB). */
  readonly maxBodyBytes: number;
  /** One profile after decompression (validation.max-profile-size-bytes = 4 MiB). */
  readonly maxProfileBytes: number;
  /** Whole request after decompression (gzip bombs); Hotpath: 64 MiB. */
  readonly maxDecompressedBodyBytes: number;
  /** Samples per profile (validation.max-profile-stacktrace-samples = 16,000). */
  readonly maxSamplesPerProfile: number;
  /** Labels per series (validation.max-label-names-per-series = 30). */
  readonly maxLabelNamesPerSeries: number;
  readonly maxLabelNameLength: number;
  readonly maxLabelValueLength: number;
  /** Stack depth: deeper stacks are truncated (root frames kept), not rejected (1,000). */
  readonly maxStackDepth: number;
  /** Function names longer are truncated keeping the suffix (65,535). */
  readonly maxSymbolLength: number;
  /** Accepted profile time window relative to now: older than this → rejected (1 h). */
  readonly rejectOlderThanMs: number;
  /** Newer than now + this → rejected (10 m). */
  readonly rejectNewerThanMs: number;
  /** Active series per tenant (ingester.max-global-series-per-tenant = 5,000); 0 = unlimited. */
  readonly maxSeriesPerTenant: number;
  /** Flame graph nodes: default and maximum (8,192 / 1,048,576). */
  readonly defaultMaxNodes: number;
  readonly maxMaxNodes: number;
  /** Longest query range (querier.max-query-length = 24 h; Hotpath allows 7 d to match max lookback). */
  readonly maxQueryRangeMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 256 * 1024 * 1024,
  maxProfileBytes: 4 * 1024 * 1024,
  maxDecompressedBodyBytes: 64 * 1024 * 1024,
  maxSamplesPerProfile: 16_000,
  maxLabelNamesPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  maxStackDepth: 1000,
  maxSymbolLength: 65_535,
  rejectOlderThanMs: 60 * 60 * 1000,
  rejectNewerThanMs: 10 * 60 * 1000,
  maxSeriesPerTenant: 5000,
  defaultMaxNodes: 8192,
  maxMaxNodes: 1_048_576,
  maxQueryRangeMs: 7 * 24 * 60 * 60 * 1000,
};

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
