// buildServer: the Hotpath HTTP app as a factory that does not listen (only main.ts listens).
// The write path (ingest/) and the read path (query/) each register their routes as an
// encapsulated Fastify plugin with their own body parsers; operations routes (/ready, /metrics)
// and the web UI (static.ts) live at the root.

import Fastify, { type FastifyInstance } from 'fastify';
import { inflatePool } from './body.ts';
import { clientErrorHandler, routeNotFound } from './client-error.ts';
import { sendError } from './connect/unary.ts';
import { requestErrors } from './errors.ts';
import { Metrics } from './metrics.ts';
import { resolveLimits, type Limits } from './limits.ts';
import { registerIngestRoutes, WritePath } from './ingest/routes.ts';
import { registerQueryRoutes } from './query/routes.ts';
import { registerDrilldownServices } from './query/drilldown.ts';
import { defaultUiDir, registerStatic } from './static.ts';
import { Auth, loopbackHostCheck, originCheck, requestTenant } from './auth/hook.ts';
import { KeyRing } from './auth/keys.ts';
import { chargeIngestBytes } from './auth/rate-limit.ts';
import { registerKeyRoutes } from './auth/routes.ts';
import { registerSecurityHeaders } from './auth/headers.ts';
import { serveH2c } from './h2c.ts';
import { keepRecordingRulesLoaded } from './rules/service.ts';
import type { ServerDeps } from './deps.ts';

export type { ServerDeps } from './deps.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The write path (group committer, series limiter) of this app. */
    hotpathWritePath: WritePath;
    /** Auth mode and API keys of this app. */
    hotpathAuth: Auth;
  }
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? resolveLimits();
  // Process-wide, like the memory it bounds: the last app built sets it (one per process in practice).
  inflatePool.limitBytes = limits.maxInflatingBytes;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: limits.maxBodyBytes,
    // Slow clients are dropped: the whole request (headers and body) within requestTimeoutMs → 408.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Parser rejections (431 header overflow, 400 not HTTP, 408) answered with coded JSON bodies.
    clientErrorHandler,
    // A path that is not valid percent-encoding never reaches a route: coded like the rest.
    frameworkErrors: (err, _request, reply) =>
      sendError(
        reply,
        err.code === 'FST_ERR_BAD_URL'
          ? requestErrors.malformedPath()
          : requestErrors.malformedRequest(err.message),
      ),
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
  }) as unknown as FastifyInstance;
  // Headers alone within headersTimeoutMs → 408. Node checks both timeouts every
  // connectionsCheckingInterval (30 s by default): check often enough that the limits hold.
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // (A public field of http.Server and https.Server read at listen(); @types/node does not declare it.)
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
    1000,
    limits.headersTimeoutMs,
  );
  // gRPC clients speak HTTP/2 without TLS (h2c) on this same port: h2c.ts routes those connections.
  if (!deps.https) serveH2c(app, limits);
  const full: ServerDeps & { metrics: Metrics; limits: Limits } = {
    ...deps,
    metrics: deps.metrics ?? new Metrics(),
    limits,
  };
  const writePath = new WritePath(full);
  app.decorate('hotpathWritePath', writePath);
  await keepRecordingRulesLoaded(app, deps.store, writePath.rules);
  const auth = new Auth(deps.auth ?? 'none', new KeyRing(deps.store));
  app.decorate('hotpathAuth', auth);
  app.decorateRequest('hotpathIdentity', null);
  // Before any route: headers on every response, and no cross-origin page may write.
  await registerSecurityHeaders(app, { https: deps.https !== undefined });
  if (deps.loopbackHostsOnly) app.addHook('onRequest', loopbackHostCheck);
  app.addHook('onRequest', originCheck);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // While shutting down, answer in-flight requests with `Connection: close` so keep-alive sockets do
  // not hold the server open after their last response.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  // Runs after in-flight requests have finished: commit whatever they left waiting.
  app.addHook('onClose', async () => {
    await writePath.committer.close();
  });

  app.get('/ready', async (_request, reply) => {
    if (closing) return reply.code(503).type('text/plain').send('shutting down\n');
    return reply.code(200).type('text/plain').send('ready\n');
  });
  // /metrics names every tenant: admin only when auth is on. It ends with the recording rule series
  // of the request's tenant (the key's, or X-Scope-OrgID without auth).
  app.get('/metrics', { onRequest: [auth.guard('admin')] }, async (request, reply) => {
    const text = full.metrics.render() + writePath.rules.render(requestTenant(request));
    return reply.code(200).type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', auth.guard('write'));
    chargeIngestBytes(scope, writePath.rateLimiter);
    await registerIngestRoutes(scope, { ...full, writePath });
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', auth.guard('read'));
    await registerQueryRoutes(scope, full);
  });
  await app.register(async (scope) => registerDrilldownServices(scope, full, auth));
  await app.register(async (scope) => registerKeyRoutes(scope, auth, deps.now ?? Date.now));
  await app.register(async (scope) => registerStatic(scope, deps.uiDir ?? defaultUiDir()));
  // Any other method or path: the same coded JSON body as every other rejection.
  app.setNotFoundHandler((request, reply) => sendError(reply, routeNotFound(request.method, request.url)));
  return app;
}
