// Read path routes: querier.v1.QuerierService (Connect), /pyroscope/render and the legacy HTTP API.
// Registered by app.ts in its own encapsulated scope (the Connect body parsers stay local to it).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../app.ts';
import { addConnectBodyParsers } from '../connect/unary.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { Metrics } from '../metrics.ts';
import { registerQuerierService, type QueryContext } from './connect.ts';
import { registerRenderRoutes } from './render.ts';

export async function registerQueryRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const ctx: QueryContext = {
    deps,
    limits: deps.limits ?? DEFAULT_LIMITS,
    metrics: deps.metrics ?? new Metrics(),
    now: deps.now ?? Date.now,
  };
  addConnectBodyParsers(app);
  registerQuerierService(app, ctx);
  registerRenderRoutes(app, ctx);
}
