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
  /** Parallel columns: one row per distinct stack, values summed, values > 0. */
  readonly stackIds: BigUint64Array;
  readonly values: Float64Array;
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

export interface TimeSeriesQuery extends ProfileQuery {
  readonly stepMs: number;
  readonly groupBy: readonly string[];
  readonly aggregation: 'sum' | 'avg';
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
