// Test harness for the write path: a real DuckDB store in a temp dir behind buildServer (no port),
// or a real listening server (startServer on port 0). Cleans up after itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/app.ts';
import { resolveLimits, type Limits } from '../../src/limits.ts';
import { Metrics } from '../../src/metrics.ts';
import { openDuckDBStore } from '../../src/store/duckdb.ts';
import type { Store } from '../../src/store/types.ts';

export interface TestServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A fixed clock: 2026-01-01T00:00:00Z. */
export const NOW_MS = Date.UTC(2026, 0, 1);

export async function openTestServer(
  opts: { limits?: Partial<Limits>; now?: () => number; store?: Store } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-ingest-'));
  const store = opts.store ?? (await openDuckDBStore({ dataDir }));
  const metrics = new Metrics();
  const app = await buildServer({
    store,
    metrics,
    limits: resolveLimits(opts.limits),
    now: opts.now ?? (() => NOW_MS),
    groupCommit: { intervalMs: 2 },
    uiDir: join(dataDir, 'no-ui'),
  });
  await app.ready();
  return {
    app,
    store,
    metrics,
    dataDir,
    async close() {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Everything of a tenant over all time. */
export const ALL_TIME = { startMs: 0, endMs: 4_102_444_800_000 } as const;
