// buildServer: the Hotpath HTTP app as a factory that does not listen (only main.ts listens).
// The write path (ingest/) and the read path (query/) each register their routes as an
// encapsulated Fastify plugin with their own body parsers.

import Fastify, { type FastifyInstance } from 'fastify';
import type { Store } from './store/types.ts';
import { Metrics } from './metrics.ts';
import { registerIngestRoutes } from './ingest/routes.ts';
import { registerQueryRoutes } from './query/routes.ts';

export interface ServerDeps {
  readonly store: Store;
  /** Metrics registry; buildServer creates one when absent. */
  readonly metrics?: Metrics;
  /** ms since epoch; injectable for tests. */
  readonly now?: () => number;
  /** Fastify logger option; false in tests. */
  readonly logger?: boolean | object;
  /** Directory with the built web UI (packages/ui/dist), served at `/` when present. */
  readonly uiDir?: string;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 256 * 1024 * 1024 });
  const full: ServerDeps & { metrics: Metrics } = { ...deps, metrics: deps.metrics ?? new Metrics() };
  await app.register(async (scope) => registerIngestRoutes(scope, full));
  await app.register(async (scope) => registerQueryRoutes(scope, full));
  return app;
}
