// The ClickHouse schema, versioned. Written for the oldest ClickHouse Hotpath supports (Debian's 18.16:
// no Map, no codecs, no TTL): labels as two parallel arrays, Int64 ms timestamps, partitions by UTC day
// number (intDiv(time_ms, 86400000)) so retention is `ALTER TABLE ... DROP PARTITION <day>`.
//
// | table     | engine             | rows                                   | order by                         |
// |-----------|--------------------|----------------------------------------|----------------------------------|
// | samples   | MergeTree          | (tenant, series, time, stack, value)   | tenant, series_id, time, stack   |
// | profiles  | MergeTree          | one per appended profile (its total)   | tenant, time_ms, series_id       |
// | series    | ReplacingMergeTree | one per (tenant, label set)            | tenant, series_id                |
// | stacks    | ReplacingMergeTree | one per stack id (parent, function)    | id                               |
// | functions | ReplacingMergeTree | one per function id (name, file)       | id                               |
//
// Every id is a content hash (series: hash(tenant, labels); stacks, functions: core ids.ts), so two
// replicas writing the same dictionary entry write the same row and ReplacingMergeTree folds them.
// Profiles are written before samples: a failed samples insert leaves at most an empty profile.
//
// Single node: the tables above are plain tables. Cluster (`--clickhouse-cluster NAME`): each is a
// `<table>_local` on every node plus a Distributed `<table>` over the cluster, sharded by series id
// (samples, profiles, series: one series lives on one shard) or by id (stacks, functions).

export type Layout = { readonly kind: 'single' } | { readonly kind: 'cluster'; readonly cluster: string; readonly onCluster: boolean };

interface TableDef {
  readonly name: string;
  readonly columns: string;
  readonly engine: string;
  /** Sharding expression of the Distributed table. */
  readonly shardBy: string;
}

const DAY = 'intDiv(time_ms, 86400000)';

const TABLES_V1: readonly TableDef[] = [
  {
    name: 'functions',
    columns: 'id UInt64, name String, file String',
    engine: 'ReplacingMergeTree ORDER BY id',
    shardBy: 'id',
  },
  {
    name: 'stacks',
    columns: 'id UInt64, parent_id UInt64, function_id UInt64',
    engine: 'ReplacingMergeTree ORDER BY id',
    shardBy: 'id',
  },
  {
    name: 'series',
    columns: 'tenant String, series_id UInt64, profile_type String, label_names Array(String), label_values Array(String)',
    engine: 'ReplacingMergeTree ORDER BY (tenant, series_id)',
    shardBy: 'series_id',
  },
  {
    name: 'profiles',
    columns: 'tenant String, series_id UInt64, time_ms Int64, total Float64, samples UInt32',
    engine: `MergeTree PARTITION BY ${DAY} ORDER BY (tenant, time_ms, series_id)`,
    shardBy: 'series_id',
  },
  {
    name: 'samples',
    columns: 'tenant String, series_id UInt64, time_ms Int64, stack_id UInt64, value Float64',
    engine: `MergeTree PARTITION BY ${DAY} ORDER BY (tenant, series_id, time_ms, stack_id)`,
    shardBy: 'series_id',
  },
];

export interface Migration {
  readonly version: number;
  /** Statements for a database and layout; each is idempotent (IF NOT EXISTS). */
  statements(db: string, layout: Layout): string[];
}

function createTables(db: string, layout: Layout, tables: readonly TableDef[]): string[] {
  if (layout.kind === 'single') {
    return tables.map((t) => `CREATE TABLE IF NOT EXISTS ${db}.${t.name} (${t.columns}) ENGINE = ${t.engine}`);
  }
  const on = layout.onCluster ? ` ON CLUSTER ${layout.cluster}` : '';
  const out: string[] = [];
  for (const t of tables) {
    out.push(`CREATE TABLE IF NOT EXISTS ${db}.${t.name}_local${on} (${t.columns}) ENGINE = ${t.engine}`);
    out.push(`CREATE TABLE IF NOT EXISTS ${db}.${t.name}${on} (${t.columns}) ENGINE = Distributed(${layout.cluster}, ${db}, ${t.name}_local, ${t.shardBy})`);
  }
  return out;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, statements: (db, layout) => createTables(db, layout, TABLES_V1) }];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The node-local bookkeeping table of applied migrations. */
export function schemaVersionsTable(db: string): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.schema_versions (version UInt32, applied_ms Int64) ENGINE = MergeTree ORDER BY version`;
}
