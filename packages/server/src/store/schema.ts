// The DuckDB schema as an ordered list of migrations; `schema_version` records how many have run.
// Never edit a released migration: append a new one.
//
// Layout (DESIGN.md "Storage sketch"), chosen for bytes on disk (B4 ≤ 2 B/sample):
// - 64-bit content-hash ids live only in the dictionaries; the hot `samples` table refers to dense
//   32-bit keys (`series.key`, `stacks.key`) assigned in first-seen order, so a block of samples holds
//   small, clustered integers that DuckDB bit-packs (and delta-packs when sorted).
// - samples are appended sorted by (series_key, time_ms, stack_key): series and time compress to runs.
// - `profiles` has one row per appended profile (series, time, total): time-series, label queries and
//   stats read it instead of the samples.
// - `samples_1h` (v2) holds the samples summed per (series, hour, stack) for every hour before the
//   watermark in `rollup_state`: a flame graph over whole past hours reads it instead of `samples`
//   (a 10 s profile interval makes it ~360× smaller). A late sample (under the watermark) goes to
//   `samples` only, and its hour into `rollup_dirty` in the same transaction: reads take dirty
//   hours from `samples` until the next rollup sums them again.
// - `api_keys` (v3) holds API keys by hash (never the key text).
// - `samples.span_key` and `spans` (v5): span profiles (see the migration).
// - `documents` (v4) holds small per-tenant JSON documents (settings, ad-hoc profiles, rules).

export interface Migration {
  readonly version: number;
  readonly sql: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: [
      `CREATE TABLE series (
         key UINTEGER NOT NULL,      -- dense key referenced by samples/profiles
         tenant VARCHAR NOT NULL,
         id UBIGINT NOT NULL,        -- content hash of (tenant, labels)
         labels VARCHAR NOT NULL     -- JSON [[name, value], ...], sorted by name
       )`,
      `CREATE TABLE functions (id UBIGINT NOT NULL, name VARCHAR NOT NULL, file VARCHAR NOT NULL)`,
      `CREATE TABLE stacks (
         key UINTEGER NOT NULL,      -- dense key referenced by samples
         id UBIGINT NOT NULL,
         parent_id UBIGINT NOT NULL, -- 0 for a root frame
         function_id UBIGINT NOT NULL
       )`,
      `CREATE TABLE profiles (series_key UINTEGER NOT NULL, time_ms BIGINT NOT NULL, total DOUBLE NOT NULL)`,
      `CREATE TABLE samples (
         series_key UINTEGER NOT NULL,
         time_ms BIGINT NOT NULL,
         stack_key UINTEGER NOT NULL,
         value DOUBLE NOT NULL
       )`,
    ],
  },
  {
    version: 2,
    sql: [
      `CREATE TABLE samples_1h (
         series_key UINTEGER NOT NULL,
         hour_ms BIGINT NOT NULL,     -- start of the hour
         stack_key UINTEGER NOT NULL,
         value DOUBLE NOT NULL
       )`,
      `CREATE TABLE rollup_state (rolled_until_ms BIGINT NOT NULL)`,
      `INSERT INTO rollup_state VALUES (0)`,
      `CREATE TABLE rollup_dirty (hour_ms BIGINT NOT NULL)`,
    ],
  },
  {
    // v3: API keys (auth/keys.ts), stored as SHA-256 hashes; a revoked key keeps its row.
    version: 3,
    sql: [
      `CREATE TABLE api_keys (
         id VARCHAR NOT NULL,        -- public id: 16 hex chars of the hash
         hash VARCHAR NOT NULL,      -- SHA-256 of the key, hex
         tenant VARCHAR NOT NULL,
         scope VARCHAR NOT NULL,     -- write | read | admin
         name VARCHAR NOT NULL,
         created_ms BIGINT NOT NULL,
         revoked_ms BIGINT NOT NULL  -- 0 while active
       )`,
    ],
  },
  {
    // v4: per-tenant documents (Store.putDocument); a put replaces the row of (tenant, kind, id).
    version: 4,
    sql: [
      `CREATE TABLE documents (
         tenant VARCHAR NOT NULL,
         kind VARCHAR NOT NULL,      -- setting | adhoc_profile | recording_rule
         id VARCHAR NOT NULL,
         body VARCHAR NOT NULL,      -- JSON, opaque to the store
         updated_ms BIGINT NOT NULL
       )`,
    ],
  },
  {
    // v5: span profiles. `spans` has one row per (profile, span): a dense key, the 64-bit span id
    // (stored once), its name, trace id, total and sample count, so listings and exemplars never read
    // the samples. A sample row names its span by that key (0: none): keys grow with time and a
    // profile's rows are sorted by (span key, stack), so the column delta-packs to a few bits (one
    // constant for data without spans). A span query finds the keys in `spans`, then the samples.
    version: 5,
    sql: [
      `ALTER TABLE samples ADD COLUMN span_key UINTEGER DEFAULT 0`,
      `CREATE TABLE spans (
         key UINTEGER NOT NULL,      -- referenced by samples.span_key; one per (profile, span)
         series_key UINTEGER NOT NULL,
         time_ms BIGINT NOT NULL,
         span_id UBIGINT NOT NULL,
         name VARCHAR NOT NULL,      -- '' when not sent
         trace_id VARCHAR NOT NULL,  -- 32 lower-case hex digits, '' when not sent
         total DOUBLE NOT NULL,
         samples UINTEGER NOT NULL
       )`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
