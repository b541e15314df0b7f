// openStore: picks a Store backend by name. The memory and ClickHouse backends are imported lazily, so
// a server on DuckDB never loads the ClickHouse client.

import { storeErrors } from './errors.ts';
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
      const { openMemoryStore } = await import('./memory.ts');
      return openMemoryStore();
    }
    case 'clickhouse': {
      if (!opts.clickhouseUrl) {
        throw storeErrors.storeConfig(
          'the clickhouse store needs a URL (--clickhouse-url or HOTPATH_CLICKHOUSE_URL)',
        );
      }
      const { openClickHouseStore } = await import('./clickhouse.ts');
      return openClickHouseStore({
        url: opts.clickhouseUrl,
        ...(opts.clickhouseCluster ? { cluster: opts.clickhouseCluster } : {}),
        ...(opts.clickhouseDatabase ? { database: opts.clickhouseDatabase } : {}),
      });
    }
    default:
      throw storeErrors.storeConfig(
        `unknown store kind '${String(opts.kind)}'; use ${STORE_KINDS.join(', ')}`,
      );
  }
}
