// openStore: picks a Store backend by name. The memory and ClickHouse backends are imported lazily,
// so a missing optional module (or client) fails with a clear message only when it is asked for.

import { HotpathError } from '../errors.ts';
import { openDuckDBStore } from './duckdb.ts';
import type { Store } from './types.ts';

export type StoreKind = 'duckdb' | 'memory' | 'clickhouse';
export const STORE_KINDS: readonly StoreKind[] = ['duckdb', 'memory', 'clickhouse'];

export interface OpenStoreOptions {
  readonly kind: StoreKind;
  /** duckdb: directory of the database file (default ./data). */
  readonly dataDir?: string;
  /** clickhouse: e.g. http://127.0.0.1:8123 */
  readonly clickhouseUrl?: string;
  /** clickhouse: cluster name for ON CLUSTER DDL and Distributed tables. */
  readonly clickhouseCluster?: string;
  readonly clickhouseDatabase?: string;
}

/** Opens and initialises a store; the caller closes it. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  switch (opts.kind) {
    case 'duckdb':
      return openDuckDBStore({ dataDir: opts.dataDir ?? './data' });
    case 'memory': {
      const mod = await importBackend('./memory.ts', 'memory');
      const open = (mod.openMemoryStore ?? mod.createMemoryStore) as
        (() => Store | Promise<Store>) | undefined;
      const MemoryStore = mod.MemoryStore as (new () => Store) | undefined;
      const store =
        open !== undefined ? await open() : MemoryStore !== undefined ? new MemoryStore() : undefined;
      if (store === undefined)
        throw missing('memory', 'store/memory.ts exports neither openMemoryStore nor MemoryStore');
      await store.init();
      return store;
    }
    case 'clickhouse': {
      if (!opts.clickhouseUrl) {
        throw new HotpathError(
          'store_config',
          400,
          'invalid_argument',
          'the clickhouse store needs a URL (--clickhouse-url or HOTPATH_CLICKHOUSE_URL)',
        );
      }
      const mod = await importBackend('./clickhouse.ts', 'clickhouse');
      const open = mod.openClickHouseStore as
        ((o: { url: string; cluster?: string; database?: string }) => Promise<Store>) | undefined;
      if (open === undefined)
        throw missing('clickhouse', 'store/clickhouse.ts does not export openClickHouseStore');
      const store = await open({
        url: opts.clickhouseUrl,
        ...(opts.clickhouseCluster ? { cluster: opts.clickhouseCluster } : {}),
        ...(opts.clickhouseDatabase ? { database: opts.clickhouseDatabase } : {}),
      });
      await store.init();
      return store;
    }
    default:
      throw new HotpathError(
        'store_config',
        400,
        'invalid_argument',
        `unknown store kind '${String(opts.kind)}'; use ${STORE_KINDS.join(', ')}`,
      );
  }
}

function missing(kind: string, why: string): HotpathError {
  return new HotpathError(
    'store_unavailable',
    500,
    'internal',
    `the ${kind} store is not available in this build: ${why}`,
  );
}

async function importBackend(path: string, kind: string): Promise<Record<string, unknown>> {
  try {
    // A variable specifier keeps the type checker from requiring modules that other packages add later.
    const spec: string = path;
    return (await import(new URL(spec, import.meta.url).href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw missing(kind, `${path} is missing`);
    throw e;
  }
}
