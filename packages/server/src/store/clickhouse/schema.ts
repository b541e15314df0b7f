// The ClickHouse schema, versioned. Written for the oldest ClickHouse Hotpath supports (Debian's 18.16:
// no Map, no codecs, no TTL): labels as two parallel arrays, Int64 ms timestamps, partitions by UTC day
// number (intDiv(time_ms, 86400000)) so retention is `ALTER TABLE ... DROP PARTITION <day>`.
//
// | table      | engine             | rows                                    | order by                      |
// |------------|--------------------|-----------------------------------------|-------------------------------|
// | samples    | MergeTree          | (series, time, stack, value)            | series_id, time_ms, stack_id  |
// | samples_1h | SummingMergeTree   | samples summed per (series, hour, stack) | series_id, hour_ms, stack_id |
// | profiles   | MergeTree          | one per appended profile (its total)    | tenant, time_ms, series_id    |
// | series     | ReplacingMergeTree | one per (tenant, label set)             | tenant, series_id             |
// | stacks     | ReplacingMergeTree | one per stack id (parent, function)     | id                            |
// | functions  | ReplacingMergeTree | one per function id (name, file)        | id                            |
// | api_keys   | MergeTree          | one per key, plus one per revocation    | id                            |
// | documents  | ReplacingMergeTree | one per put or delete of a document     | kind, tenant, id              |
// | span_samples | MergeTree        | samples that carried a span, with its id | series_id, span_id, time_ms, stack_id |
// | spans      | MergeTree          | one per (profile, span): name, trace, total | tenant, time_ms, series_id |
//
// Tenancy: series, profiles and every query on them carry the tenant; samples do not (a tenant column
// there cost 3× the time of a 24 h merge here): they are reached only through series ids looked up
// within the tenant, and a series id is a hash of (tenant, labels), so tenants never share one.
// samples_1h is filled by a materialized view on each insert into samples; a long range reads whole
// hours from it (B3 data: 474 k rollup rows for 24 h instead of 8.6 M samples) and only the ragged
// ends from samples.
// Every id is a content hash (series: hash(tenant, labels); stacks, functions: core ids.ts), so two
// replicas writing the same dictionary entry write the same row and ReplacingMergeTree folds them.
// Profiles are written before samples: a failed samples insert leaves at most an empty profile.
//
// Single node: the tables above are plain tables. Cluster (`--clickhouse-cluster NAME`): each is a
// `<table>_local` on every node plus a Distributed `<table>` over the cluster, sharded by series id
// (samples, rollups, profiles, series: one series lives on one shard) or by id (stacks, functions).
// With ZooKeeper the DDL runs ON CLUSTER, and with the {shard}/{replica} macros as well the local
// tables are Replicated* (replicas of a shard share /clickhouse/tables/{shard}/<db>/<table>).

export type Layout =
  | { readonly kind: 'single' }
  | {
      readonly kind: 'cluster';
      readonly cluster: string;
      /** ZooKeeper is configured: DDL runs ON CLUSTER and reaches every node. */
      readonly onCluster: boolean;
      /** ZooKeeper and the {shard}/{replica} macros are configured: local tables are Replicated*. */
      readonly replicated: boolean;
    };

interface TableDef {
  readonly name: string;
  readonly columns: string;
  /** Engine family, its extra arguments, and the PARTITION/ORDER clauses. */
  readonly family: 'MergeTree' | 'ReplacingMergeTree' | 'SummingMergeTree';
  readonly args?: string;
  readonly clauses: string;
  /** Sharding expression of the Distributed table. */
  readonly shardBy: string;
}

const DAY = 'intDiv(time_ms, 86400000)';

const TABLES_V1: readonly TableDef[] = [
  {
    name: 'functions',
    columns: 'id UInt64, name String, file String',
    family: 'ReplacingMergeTree',
    clauses: 'ORDER BY id',
    shardBy: 'id',
  },
  {
    name: 'stacks',
    columns: 'id UInt64, parent_id UInt64, function_id UInt64',
    family: 'ReplacingMergeTree',
    clauses: 'ORDER BY id',
    shardBy: 'id',
  },
  {
    name: 'series',
    columns:
      'tenant String, series_id UInt64, profile_type String, label_names Array(String), label_values Array(String)',
    family: 'ReplacingMergeTree',
    clauses: 'ORDER BY (tenant, series_id)',
    shardBy: 'series_id',
  },
  {
    name: 'profiles',
    columns: 'tenant String, series_id UInt64, time_ms Int64, total Float64, samples UInt32',
    family: 'MergeTree',
    clauses: `PARTITION BY ${DAY} ORDER BY (tenant, time_ms, series_id)`,
    shardBy: 'series_id',
  },
  {
    name: 'samples',
    columns: 'series_id UInt64, time_ms Int64, stack_id UInt64, value Float64',
    family: 'MergeTree',
    clauses: `PARTITION BY ${DAY} ORDER BY (series_id, time_ms, stack_id)`,
    shardBy: 'series_id',
  },
  {
    name: 'samples_1h',
    columns: 'series_id UInt64, hour_ms Int64, stack_id UInt64, value Float64',
    family: 'SummingMergeTree',
    args: 'value',
    clauses: 'PARTITION BY intDiv(hour_ms, 86400000) ORDER BY (series_id, hour_ms, stack_id)',
    shardBy: 'series_id',
  },
];

export interface Migration {
  readonly version: number;
  /** Statements for a database and layout; each is idempotent (IF NOT EXISTS). */
  statements(db: string, layout: Layout): string[];
}

/** Length of a rollup bucket, ms. */
export const ROLLUP_MS = 3_600_000;

/** The engine clause; Replicated* keeps one ZooKeeper path per shard and table. */
function engineOf(db: string, t: TableDef, replicated: boolean): string {
  if (!replicated) return `${t.family}${t.args ? `(${t.args})` : ''} ${t.clauses}`;
  const args = [`'/clickhouse/tables/{shard}/${db}/${t.name}'`, `'{replica}'`, ...(t.args ? [t.args] : [])];
  return `Replicated${t.family}(${args.join(', ')}) ${t.clauses}`;
}

function createTables(db: string, layout: Layout, tables: readonly TableDef[]): string[] {
  if (layout.kind === 'single') {
    return tables.map(
      (t) => `CREATE TABLE IF NOT EXISTS ${db}.${t.name} (${t.columns}) ENGINE = ${engineOf(db, t, false)}`,
    );
  }
  const on = layout.onCluster ? ` ON CLUSTER ${layout.cluster}` : '';
  const out: string[] = [];
  for (const t of tables) {
    out.push(
      `CREATE TABLE IF NOT EXISTS ${db}.${t.name}_local${on} (${t.columns}) ENGINE = ${engineOf(db, t, layout.replicated)}`,
    );
    out.push(
      `CREATE TABLE IF NOT EXISTS ${db}.${t.name}${on} (${t.columns}) ENGINE = Distributed(${layout.cluster}, ${db}, ${t.name}_local, ${t.shardBy})`,
    );
  }
  return out;
}

/** The view feeding samples_1h; on the node-local tables in a cluster (both sharded by series id). */
function createRollupView(db: string, layout: Layout): string {
  const local = layout.kind === 'cluster' ? '_local' : '';
  const on = layout.kind === 'cluster' && layout.onCluster ? ` ON CLUSTER ${layout.cluster}` : '';
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.samples_1h_mv${local}${on} TO ${db}.samples_1h${local}
    AS SELECT series_id, intDiv(time_ms, ${ROLLUP_MS}) * ${ROLLUP_MS} AS hour_ms, stack_id, sum(value) AS value
    FROM ${db}.samples${local} GROUP BY series_id, hour_ms, stack_id`;
}

/**
 * v2: API keys by SHA-256 hash (auth/keys.ts). Revoking appends a copy of the row with revoked_ms set
 * (no mutations: 18.16 has none that are synchronous); readers group by id and take the earliest
 * revocation, so two replicas revoking the same key agree.
 */
const TABLES_V2: readonly TableDef[] = [
  {
    name: 'api_keys',
    columns:
      'id String, hash String, tenant String, scope String, name String, created_ms Int64, revoked_ms Int64',
    family: 'MergeTree',
    clauses: 'ORDER BY id',
    shardBy: 'sipHash64(id)',
  },
];

/**
 * v3: per-tenant documents (Store.putDocument). A put or a delete appends a row (a delete with
 * deleted = 1) whose `version` grows with time; readers take the row of the highest version per
 * (tenant, kind, id), and ReplacingMergeTree folds the older ones away when parts merge.
 */
const TABLES_V3: readonly TableDef[] = [
  {
    name: 'documents',
    columns:
      'tenant String, kind String, id String, body String, updated_ms Int64, version UInt64, deleted UInt8',
    family: 'ReplacingMergeTree',
    args: 'version',
    clauses: 'ORDER BY (kind, tenant, id)',
    shardBy: 'sipHash64(tenant)',
  },
];

/**
 * v4: span profiles. `span_samples` repeats the samples that carried a span with its id (the samples
 * table stays as it was, so no query without a span selector changes); `spans` has one row per
 * (profile, span) with the span's name, trace id, total and sample count, for listings and exemplars.
 */
const TABLES_V4: readonly TableDef[] = [
  {
    name: 'span_samples',
    columns: 'series_id UInt64, time_ms Int64, span_id UInt64, stack_id UInt64, value Float64',
    family: 'MergeTree',
    clauses: `PARTITION BY ${DAY} ORDER BY (series_id, span_id, time_ms, stack_id)`,
    shardBy: 'series_id',
  },
  {
    name: 'spans',
    columns:
      'tenant String, series_id UInt64, time_ms Int64, span_id UInt64, name String, trace_id String, total Float64, samples UInt32',
    family: 'MergeTree',
    clauses: `PARTITION BY ${DAY} ORDER BY (tenant, time_ms, series_id)`,
    shardBy: 'series_id',
  },
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (db, layout) => [...createTables(db, layout, TABLES_V1), createRollupView(db, layout)],
  },
  {
    version: 2,
    statements: (db, layout) => createTables(db, layout, TABLES_V2),
  },
  {
    version: 3,
    statements: (db, layout) => createTables(db, layout, TABLES_V3),
  },
  {
    version: 4,
    statements: (db, layout) => createTables(db, layout, TABLES_V4),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The table or view a CREATE statement makes (its name without the database), or null. */
export function createdObject(sql: string): string | null {
  return /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS \w+\.(\w+)/.exec(sql)?.[1] ?? null;
}

/** The node-local bookkeeping table of applied migrations. */
export function schemaVersionsTable(db: string): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.schema_versions (version UInt32, applied_ms Int64) ENGINE = MergeTree ORDER BY version`;
}
