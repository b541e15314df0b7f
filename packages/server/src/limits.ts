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

  // Tenants and ingest rates (auth/rate-limit.ts, ingest/series-limit.ts). Without auth a caller
  // picks any X-Scope-OrgID, so the per-tenant caps alone do not bound the server.
  /** Tenants with active series at once (100); a write naming one more → 429 tenant_limit. 0 = unlimited. */
  readonly maxTenants: number;
  /** Active series over all tenants (100,000 = 20 tenants at the per-tenant default); 0 = unlimited. */
  readonly maxSeriesTotal: number;
  /** Sustained ingest per tenant, request bytes before decompression per second (128 MiB/s: B1's wide shape at target is ~55 MB/s); 0 = off. */
  readonly ingestBytesPerSecond: number;
  /** Bytes one tenant may send at once above the rate (512 MiB: two bodies at the body limit). */
  readonly ingestBurstBytes: number;
  /** Sustained profiles (one per series and sample type) per tenant per second (10,000: B1's python shape at target is 500 pushes/s × 5 series); 0 = off. */
  readonly ingestProfilesPerSecond: number;
  /** Profiles one tenant may send at once above the rate (100,000). */
  readonly ingestBurstProfiles: number;
  /** Recording rules per tenant (100); one more → 429 too_many_rules. */
  readonly maxRecordingRulesPerTenant: number;
  /** Series (distinct group-by values) per recording rule (1,000); increments of more are dropped, counted. */
  readonly maxRecordingRuleSeries: number;
  /** An ad hoc profile (AdHocProfileService/Upload), decoded from base64 (4 MiB, as a pushed profile); larger → 400 adhoc_profile_too_large. */
  readonly maxAdhocProfileBytes: number;
  /** Ad hoc profiles kept per tenant (100); an upload beyond it removes the oldest. */
  readonly maxAdhocProfilesPerTenant: number;
  /** How long an ad hoc profile is kept (30 d); older ones are removed on the tenant's next upload or list. */
  readonly adhocRetentionMs: number;
  /** Settings per tenant (SettingsService, 100) and bytes of one setting's name + value (64 KiB). */
  readonly maxSettingsPerTenant: number;
  readonly maxSettingBytes: number;
  /** Flame graph nodes: default and maximum (8,192 / 1,048,576). */
  readonly defaultMaxNodes: number;
  readonly maxMaxNodes: number;
  /** Longest query range (querier.max-query-length = 24 h; Hotpath allows 7 d to match max lookback). */
  readonly maxQueryRangeMs: number;
  /** Span and trace ids of one span selector, and spans of one GET /api/spans answer (1,000). */
  readonly maxSpansPerQuery: number;

  // Bounded work per request (DESIGN.md "Trust boundary at the edge").
  /** Body of a read route before and after decompression (a query needs a few KiB); Hotpath: 1 MiB. */
  readonly maxQueryBodyBytes: number;
  /**
   * Bytes being decompressed at once by all requests of the process (256 MiB: four requests at the
   * decompressed limit); past it → 503 server_busy with Retry-After. Bounds the memory of many
   * concurrent gzip bombs.
   */
  readonly maxInflatingBytes: number;
  /** Nesting of JSON arrays/objects in any JSON body (Connect, speedscope, sample_type_config): 64. */
  readonly maxJsonDepth: number;
  /** Queries running at once per tenant (4); more wait in the tenant's queue. */
  readonly maxConcurrentQueriesPerTenant: number;
  /** Queries running at once over all tenants (8, a few per core: queries are CPU-bound). */
  readonly maxConcurrentQueries: number;
  /** Queries waiting per tenant (64); past it → 429 too_many_queries. */
  readonly maxQueuedQueriesPerTenant: number;
  /** Time budget of one query, waiting included (30 s); past it → 504 query_timeout. */
  readonly queryTimeoutMs: number;
  /** Whole request, headers and body (60 s: a 4 MiB profile at ~0.5 Mbit/s); slower → 408. */
  readonly requestTimeoutMs: number;
  /** Request headers (10 s); slower → 408. */
  readonly headersTimeoutMs: number;
  /** Idle keep-alive connection (72 s, Fastify's default: longer than common load balancers' 60 s). */
  readonly keepAliveTimeoutMs: number;
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
  maxTenants: 100,
  maxSeriesTotal: 100_000,
  ingestBytesPerSecond: 128 * 1024 * 1024,
  ingestBurstBytes: 512 * 1024 * 1024,
  ingestProfilesPerSecond: 10_000,
  ingestBurstProfiles: 100_000,
  maxRecordingRulesPerTenant: 100,
  maxRecordingRuleSeries: 1000,
  maxAdhocProfileBytes: 4 * 1024 * 1024,
  maxAdhocProfilesPerTenant: 100,
  adhocRetentionMs: 30 * 24 * 60 * 60 * 1000,
  maxSettingsPerTenant: 100,
  maxSettingBytes: 64 * 1024,
  defaultMaxNodes: 8192,
  maxMaxNodes: 1_048_576,
  maxQueryRangeMs: 7 * 24 * 60 * 60 * 1000,
  maxSpansPerQuery: 1000,
  maxQueryBodyBytes: 1024 * 1024,
  maxInflatingBytes: 256 * 1024 * 1024,
  maxJsonDepth: 64,
  maxConcurrentQueriesPerTenant: 4,
  maxConcurrentQueries: 8,
  maxQueuedQueriesPerTenant: 64,
  queryTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
};

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
