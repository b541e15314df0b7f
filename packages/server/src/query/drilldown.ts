// The Grafana Profiles Drilldown services beside the querier: ad hoc profiles (adhoc.ts), settings
// (settings.ts) and feature flags (feature-flags.ts), in one encapsulated scope of their own so that
// each method carries its own auth guard (reads: 'read'; Upload, Set, Delete: 'write', docs/security.md)
// and its own body limit (an ad hoc upload is a whole profile, a settings call a few bytes).

import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';
import type { Auth } from '../auth/hook.ts';
import { bodyErrors } from '../body.ts';
import { addConnectBodyParsers, sendError } from '../connect/unary.ts';
import { requestErrors } from '../errors.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { Metrics } from '../metrics.ts';
import { ADHOC_WRITES, adhocBodyBytes, registerAdhocService } from './adhoc.ts';
import type { DrilldownContext } from './context.ts';
import { registerFeatureFlagsService } from './feature-flags.ts';
import { registerSettingsService, SETTINGS_WRITES } from './settings.ts';

const WRITES = new Set([...ADHOC_WRITES, ...SETTINGS_WRITES]);

export async function registerDrilldownServices(
  app: FastifyInstance,
  deps: ServerDeps,
  auth: Auth,
): Promise<void> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const metrics = deps.metrics ?? new Metrics();
  const ctx: DrilldownContext = {
    store: deps.store,
    limits,
    now: deps.now ?? Date.now,
    connectOptions: {
      maxDecompressedBytes: limits.maxQueryBodyBytes,
      maxJsonDepth: limits.maxJsonDepth,
      onDone: (path, seconds, status) =>
        metrics.queryDuration.observe(seconds, { method: path.slice(path.lastIndexOf('/') + 1) }),
    },
  };
  addConnectBodyParsers(app);
  const readGuard = auth.guard('read');
  const writeGuard = auth.guard('write');
  app.addHook('onRoute', (route) => {
    route.onRequest = [WRITES.has(route.url) ? writeGuard : readGuard];
    route.bodyLimit = ADHOC_WRITES.includes(route.url) ? adhocBodyBytes(limits) : limits.maxQueryBodyBytes;
  });
  // Body-limit and parser errors happen before a handler runs: answer them with coded errors.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = Number(request.headers['content-length']);
      return sendError(
        reply,
        bodyErrors.bodyTooLarge(
          request.routeOptions.bodyLimit ?? limits.maxQueryBodyBytes,
          Number.isFinite(length) ? length : undefined,
        ),
      );
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, requestErrors.badRequest(err.statusCode, err.message));
    return sendError(reply, err);
  });
  registerAdhocService(app, ctx);
  registerSettingsService(app, ctx);
  registerFeatureFlagsService(app, ctx);
}
