// Read path routes: querier.v1.QuerierService (Connect), /pyroscope/render and the legacy HTTP API.
// Registered by app.ts in its own encapsulated scope (the Connect body parsers stay local to it).
// Every route of the scope takes bodies up to the query body limit (a query is a few KiB) and runs
// through one query gate (budget.ts).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';
import { addConnectBodyParsers, sendError } from '../connect/unary.ts';
import { bodyErrors } from '../body.ts';
import { requestErrors } from '../errors.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { Metrics } from '../metrics.ts';
import { QueryGate } from './budget.ts';
import { registerChangesService } from './changes.ts';
import { registerQuerierService } from './connect.ts';
import type { QueryContext } from './context.ts';
import { registerHeatmap } from './heatmap.ts';
import { registerAnalyzeQuery } from './analyze.ts';
import { registerRenderRoutes } from './render.ts';
import { registerSpanRoutes } from './spans.ts';
import { registerRecordingRulesService } from '../rules/service.ts';

export async function registerQueryRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const ctx: QueryContext = {
    deps,
    limits,
    metrics: deps.metrics ?? new Metrics(),
    gate: QueryGate.fromLimits(limits),
    now: deps.now ?? Date.now,
  };
  addConnectBodyParsers(app);
  // A 200 MB JSON body to a read route is refused while it streams in, before it is buffered or parsed.
  app.addHook('onRoute', (route) => {
    route.bodyLimit = limits.maxQueryBodyBytes;
  });
  // Body-limit and parser errors happen before a handler runs: answer them with coded errors.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = Number(request.headers['content-length']);
      return sendError(
        reply,
        bodyErrors.bodyTooLarge(limits.maxQueryBodyBytes, Number.isFinite(length) ? length : undefined),
      );
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, requestErrors.badRequest(err.statusCode, err.message));
    return sendError(reply, err);
  });
  registerQuerierService(app, ctx);
  registerHeatmap(app, ctx);
  registerAnalyzeQuery(app, ctx);
  registerChangesService(app, ctx);
  registerRenderRoutes(app, ctx);
  registerSpanRoutes(app, ctx);
  registerRecordingRulesService(app, ctx);
}
