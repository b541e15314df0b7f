// The Store interface: what every storage backend (embedded DuckDB, in-memory, ClickHouse) provides.
// Backends are checked by one conformance suite (store/conformance.ts). The write path hands the
// store content-addressed data (DESIGN.md): function and stack ids are stable 64-bit hashes
// (@hotpath/core ids.ts), series ids are hashes of (tenant, labels), so replicas never coordinate.

import type { Labels } from '@hotpath/core';

/** A label matcher of the selector language `{name="v", name=~"re", name!="v", name!~"re"}`. */
export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** One function of the dictionary; written once per distinct id. */
export interface FunctionRecord {
  readonly id: bigint;
  readonly name: string;
  readonly file: string;
}

/** One stack of the dictionary: parent stack id (0n for a root frame) plus a function. */
export interface StackRecord {
  readonly id: bigint;
  readonly parentId: bigint;
  readonly functionId: bigint;
}

/** One profile of one series (one profile type) after validation and normalisation. */
export interface ProfileRecord {
  readonly tenant: string;
  /** Series labels, sorted, incl. service_name, __name__ and __profile_type__. */
  readonly labels: Labels;
  /** Start of the profile's window, ms since epoch. */
  readonly timeMs: number;
  /**
   * Parallel columns: one row per distinct (stack, span), values summed, values > 0. Without
   * `spanIds` a stack id appears once; with it, once per span that sampled it (and once without).
   */
  readonly stackIds: BigUint64Array;
  readonly values: Float64Array;
  /** Per row: the span that took these samples, 0n for none. Absent when no sample had a span. */
  readonly spanIds?: BigUint64Array;
  /** One entry per distinct non-zero id of `spanIds`: what the samples said about the span. */
  readonly spans?: readonly SpanRecord[];
}

/**
 * A span seen in one profile (the pprof sample labels `span_id`/`profile_id`, `span_name`,
 * `trace_id`): kept per sample, never a series label, so series do not multiply with spans.
 */
export interface SpanRecord {
  /** 64-bit span id (16 hex digits on the wire), never 0n. */
  readonly spanId: bigint;
  /** `span_name` of its samples, '' when not sent. */
  readonly name: string;
  /** `trace_id` of its samples as lower-case hex (32 digits), '' when not sent. */
  readonly traceId: string;
  /** Sum of the span's values in this profile. */
  readonly total: number;
  /** Number of samples (pprof sample rows) of the span in this profile. */
  readonly samples: number;
}

/** Which spans a merge keeps: samples of any listed span, or of any span of a listed trace. */
export interface SpanSelector {
  readonly spanIds: readonly bigint[];
  /** Lower-case hex trace ids. */
  readonly traceIds: readonly string[];
}

/** One span summed over the selected series and range (GET /api/spans). */
export interface SpanSummary {
  readonly spanId: bigint;
  readonly name: string;
  readonly traceId: string;
  readonly total: number;
  readonly samples: number;
  /** Time of the first and last profile holding the span, ms since epoch. */
  readonly firstMs: number;
  readonly lastMs: number;
}

/** The largest span of one series in one step of a time series (an exemplar). */
export interface SpanExemplar {
  /** Labels of the series (all of them; the caller groups). */
  readonly labels: Labels;
  /** Start of the step, as in SeriesPoints. */
  readonly timestampMs: number;
  /** Time of the profile holding the span. */
  readonly timeMs: number;
  readonly spanId: bigint;
  readonly name: string;
  readonly traceId: string;
  readonly total: number;
}

/** What one group commit appends: durable once `append` resolves. */
export interface WriteBatch {
  readonly profiles: readonly ProfileRecord[];
  /** Dictionary entries referenced by the profiles; may repeat ids the store already has. */
  readonly functions: readonly FunctionRecord[];
  readonly stacks: readonly StackRecord[];
}

export interface TimeRange {
  /** Inclusive, ms since epoch. */
  readonly startMs: number;
  /** Inclusive, ms since epoch. */
  readonly endMs: number;
}

export interface SeriesQuery extends TimeRange {
  readonly tenant: string;
  /** Alternatives (OR) of conjunctions (AND) of matchers; [] or [[]] selects every series. */
  readonly selectors: readonly (readonly Matcher[])[];
}

export interface ProfileQuery extends TimeRange {
  readonly tenant: string;
  readonly profileTypeId: string;
  /** AND of matchers, applied on top of `__profile_type__ = profileTypeId`. */
  readonly matchers: readonly Matcher[];
  /** mergeStacks only: keep the samples of these spans (absent: every sample). */
  readonly spans?: SpanSelector;
}

export interface SpanQuery extends ProfileQuery {
  /** At most this many spans, the largest totals first. */
  readonly limit: number;
}

/** Sum of values per stack id over the selected series and range (the engine does the summing). */
export interface MergedStacks {
  readonly stackIds: BigUint64Array;
  readonly values: Float64Array;
}

export interface SeriesPoints {
  /** The values of the group-by labels (only those present), sorted. */
  readonly labels: Labels;
  /** Sorted by time; only steps that had data. */
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
}

/**
 * Which stacks a time series counts; both parts given: stacks meeting both. A stack counts whole
 * (its self value) or not at all, so a function recurring in it still counts it once.
 */
export interface StackFilter {
  /** Stacks with a frame of this function name anywhere on their path (total, as recording rules count). */
  readonly functionName?: string;
  /** Stacks whose path from the root begins with frames of these function names (Pyroscope's call_site). */
  readonly callSite?: readonly string[];
}

export interface TimeSeriesQuery extends ProfileQuery {
  readonly stepMs: number;
  readonly groupBy: readonly string[];
  /** avg: the step's (filtered) sum over all its profiles, those without a matching stack included. */
  readonly aggregation: 'sum' | 'avg';
  /**
   * timeSeries only: count only these stacks (absent: every stack). Only steps holding a matching
   * sample are points, so a function found nowhere gives no series.
   */
  readonly stacks?: StackFilter;
}

export interface ProfileStats {
  readonly dataIngested: boolean;
  /** ms since epoch; 0 when no data. */
  readonly oldestProfileTimeMs: number;
  readonly newestProfileTimeMs: number;
}

/** What an API key lets its holder do (auth/keys.ts): admin also reads and writes its tenant. */
export type ApiKeyScope = 'write' | 'read' | 'admin';

/** An API key as stored: its hash, never the key itself. */
export interface ApiKeyRecord {
  /** Public id (16 hex chars of the hash): names the key in lists, logs and revocation. */
  readonly id: string;
  /** SHA-256 of the key text, lowercase hex. */
  readonly hash: string;
  readonly tenant: string;
  readonly scope: ApiKeyScope;
  /** A note from whoever created it, e.g. 'ci-uploader'. */
  readonly name: string;
  /** ms since epoch. */
  readonly createdMs: number;
  /** ms since epoch; 0 while the key is active. */
  readonly revokedMs: number;
}

/**
 * A small per-tenant JSON document (settings, ad-hoc profiles, recording rules): one row per
 * (tenant, kind, id), replaced whole by each put. Kinds in use: 'setting', 'adhoc_profile',
 * 'recording_rule'.
 */
export interface DocumentRecord {
  readonly tenant: string;
  readonly kind: string;
  readonly id: string;
  /** Opaque to the store; callers keep JSON here. */
  readonly body: string;
  /** ms since epoch of the last put. */
  readonly updatedMs: number;
}

export interface Store {
  /** A short name for logs and metrics, e.g. 'duckdb'. */
  readonly kind: string;
  /** Creates or migrates the schema. */
  init(): Promise<void>;
  /** Flushes and releases resources; idempotent. */
  close(): Promise<void>;

  /** Appends a batch in one transaction; resolves only when the data is durable. */
  append(batch: WriteBatch): Promise<void>;

  /** Profile type ids having data in range. */
  profileTypes(q: SeriesQuery): Promise<string[]>;
  labelNames(q: SeriesQuery): Promise<string[]>;
  labelValues(q: SeriesQuery & { readonly name: string }): Promise<string[]>;
  /** Label sets of the selected series having data in range. */
  series(q: SeriesQuery): Promise<Labels[]>;

  mergeStacks(q: ProfileQuery): Promise<MergedStacks>;
  timeSeries(q: TimeSeriesQuery): Promise<SeriesPoints[]>;
  /** Spans of the selected series in range, summed per span id, largest total first (ties: smaller id). */
  spans(q: SpanQuery): Promise<SpanSummary[]>;
  /** Per series and step (as timeSeries buckets), the span with the largest total in one profile. */
  spanExemplars(q: TimeSeriesQuery): Promise<SpanExemplar[]>;

  /** Dictionary lookups; unknown ids are absent from the result. */
  getStacks(ids: readonly bigint[]): Promise<Map<bigint, StackRecord>>;
  getFunctions(ids: readonly bigint[]): Promise<Map<bigint, FunctionRecord>>;

  stats(tenant: string): Promise<ProfileStats>;

  /** Stores a new key; durable once it resolves. */
  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key with this hash, also when revoked (revokedMs > 0); undefined when unknown. */
  apiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked at `revokedMs` (a second revocation keeps the first time); false if unknown. */
  revokeApiKey(id: string, revokedMs: number): Promise<boolean>;

  /** Inserts or replaces the document (tenant, kind, id); durable once it resolves. */
  putDocument(doc: DocumentRecord): Promise<void>;
  getDocument(tenant: string, kind: string, id: string): Promise<DocumentRecord | undefined>;
  /** Documents of a kind, of every tenant when tenant is undefined; ordered by tenant, then id. */
  listDocuments(kind: string, tenant?: string): Promise<DocumentRecord[]>;
  /** Removes the document; false if there was none. */
  deleteDocument(tenant: string, kind: string, id: string): Promise<boolean>;
}
