// Public surface of @hotpath/server.
export { buildServer, type ServerDeps } from './app.ts';
export { startServer, type StartOptions, type RunningServer } from './main.ts';
export { openStore, STORE_KINDS, type OpenStoreOptions, type StoreKind } from './store/index.ts';
export { openDuckDBStore, DuckDBStore, type DuckDBStoreOptions } from './store/duckdb.ts';
export type * from './store/types.ts';
export { HotpathError } from './errors.ts';
export { parseAttimeMs, type Attime } from './attime.ts';
export { Metrics } from './metrics.ts';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './limits.ts';
export { GroupCommitter, type GroupCommitOptions } from './ingest/committer.ts';
export { AUTH_MODES, type AuthMode } from './auth/hook.ts';
export { KeyRing, API_KEY_SCOPES, parseScope } from './auth/keys.ts';
export { publicKey, KEYS_PATH } from './auth/routes.ts';
