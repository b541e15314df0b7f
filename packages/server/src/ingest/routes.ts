// Write path routes: POST /ingest and /pyroscope/ingest (compat spec §1) and the Connect
// POST /push.v1.PusherService/Push (§2). Each request is decoded, validated and normalised in full
// before anything is handed to the group committer, so a rejected request leaves no data behind.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerDeps } from '../app.ts';
import { addConnectBodyParsers, registerUnary, sendError } from '../connect/unary.ts';
import { HotpathError } from '../errors.ts';
import { resolveLimits, type Limits } from '../limits.ts';
import { Metrics } from '../metrics.ts';
import { requestTenant } from '../auth/hook.ts';
import { IngestRateLimiter } from '../auth/rate-limit.ts';
import { GroupCommitter } from './committer.ts';
import { decodeIngest, decodePush, type IngestQuery } from './decode.ts';
import { IngestErrors, toIngestError, type IngestApi } from './errors.ts';
import { BatchBuilder, type Upload } from './normalize.ts';
import { decodePushBinary, decodePushJson, type PushRequest } from './push.ts';
import { SeriesLimiter } from './series-limit.ts';

export const PUSH_PATH = '/push.v1.PusherService/Push';
/** ~100 MB of bigints at most; past it the set restarts (the store dedupes anyway). */
const MAX_REMEMBERED_STACKS = 2_000_000;

/** The write path's state, shared by its routes; created by buildServer. */
export class WritePath {
  readonly limits: Limits;
  readonly metrics: Metrics;
  readonly committer: GroupCommitter;
  readonly seriesLimiter: SeriesLimiter;
  /** Per-tenant bytes/s and profiles/s buckets (bytes are charged by a hook before the body is read). */
  readonly rateLimiter: IngestRateLimiter;
  /** Stack ids this process has seen committed; their dictionary entries are not re-sent. Bounded. */
  private readonly committedStacks = new Set<bigint>();
  private readonly now: () => number;

  constructor(deps: ServerDeps) {
    this.limits = deps.limits ?? resolveLimits();
    this.metrics = deps.metrics ?? new Metrics();
    this.now = deps.now ?? Date.now;
    this.committer = new GroupCommitter(deps.store, this.metrics, deps.groupCommit);
    this.seriesLimiter = new SeriesLimiter({
      perTenant: this.limits.maxSeriesPerTenant,
      tenants: this.limits.maxTenants,
      total: this.limits.maxSeriesTotal,
    });
    this.rateLimiter = new IngestRateLimiter(this.limits);
  }

  /** Validates and normalises every upload, checks the series limit, then waits for the group commit. */
  async write(tenant: string, uploads: readonly Upload[], nowMs: number): Promise<void> {
    const builder = new BatchBuilder(tenant, this.limits, nowMs, this.committedStacks);
    for (const u of uploads) builder.add(u);
    const batch = builder.result();
    this.rateLimiter.takeProfiles(tenant, batch.profiles.length);
    this.seriesLimiter.admit(
      tenant,
      batch.profiles.map((p) => p.labels),
      nowMs,
    );
    await this.committer.submit(batch);
    if (this.committedStacks.size + batch.stacks.length > MAX_REMEMBERED_STACKS) this.committedStacks.clear();
    for (const s of batch.stacks) this.committedStacks.add(s.id);
    this.metrics.ingestedProfiles.inc({ tenant }, batch.profiles.length);
    this.metrics.ingestedSamples.inc({ tenant }, batch.rows);
    if (batch.truncatedStacks > 0)
      this.metrics.truncations.inc({ kind: 'stack_depth' }, batch.truncatedStacks);
    if (batch.truncatedSymbols > 0)
      this.metrics.truncations.inc({ kind: 'symbol_length' }, batch.truncatedSymbols);
  }

  nowMs(): number {
    return this.now();
  }

  reject(reply: FastifyReply, err: unknown, api: IngestApi): FastifyReply {
    return sendError(reply, toIngestError(err, api));
  }
}

function bodyOf(request: FastifyRequest): Uint8Array {
  const b = request.body;
  if (b === undefined || b === null) return new Uint8Array(0);
  if (b instanceof Uint8Array) return b;
  // A parser outside this scope produced text or an object: re-encode for the decoders.
  return Buffer.from(typeof b === 'string' ? b : JSON.stringify(b));
}

export async function registerIngestRoutes(
  app: FastifyInstance,
  deps: ServerDeps & { writePath?: WritePath },
): Promise<void> {
  const wp = deps.writePath ?? new WritePath(deps);
  const limits = wp.limits;
  app.removeAllContentTypeParsers();
  addConnectBodyParsers(app);
  // Every write route (also the Connect one registered by registerUnary) gets the configured body limit.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= limits.maxBodyBytes;
  });
  // Every rejection of this scope, whoever raised it (decoders, registerUnary, body limits), is
  // counted by the stable code of its JSON error body.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400) {
      const code = typeof payload === 'string' ? /"error":"([a-z0-9_]+)"/.exec(payload)?.[1] : undefined;
      wp.metrics.rejections.inc({
        code: code ?? `http_${reply.statusCode}`,
        api: request.url.startsWith(PUSH_PATH) ? 'push' : 'ingest',
      });
    }
    return payload;
  });

  // Body-limit and parser errors happen before a handler runs: answer them with coded errors.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const api: IngestApi = request.url.startsWith(PUSH_PATH) ? 'push' : 'ingest';
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = Number(request.headers['content-length']);
      return wp.reject(
        reply,
        IngestErrors.bodyTooLarge(limits.maxBodyBytes, Number.isFinite(length) ? length : undefined),
        api,
      );
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_TYPE') {
      return wp.reject(reply, IngestErrors.malformedBody('request', err.message), api);
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return wp.reject(
        reply,
        new HotpathError('bad_request', err.statusCode, 'invalid_argument', err.message),
        api,
      );
    }
    return wp.reject(reply, err, api);
  });

  const ingest = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    try {
      const tenant = requestTenant(request);
      const body = bodyOf(request);
      const nowMs = wp.nowMs();
      const uploads = await decodeIngest(
        request.query as IngestQuery,
        request.headers['content-type'],
        body,
        limits,
        nowMs,
      );
      await wp.write(tenant, uploads, nowMs);
      wp.metrics.ingestedBytes.inc({ tenant, api: 'ingest' }, body.length);
      return reply.code(200).send();
    } catch (err) {
      return wp.reject(reply, err, 'ingest');
    } finally {
      wp.metrics.requestDuration.observe((performance.now() - started) / 1000, {
        route: '/ingest',
        status: String(reply.statusCode),
      });
    }
  };
  for (const url of ['/ingest', '/pyroscope/ingest']) {
    app.route({ method: 'POST', url, bodyLimit: limits.maxBodyBytes, handler: ingest });
  }

  registerUnary<PushRequest, Record<string, never>>(
    app,
    {
      path: PUSH_PATH,
      decodeBinary: decodePushBinary,
      decodeJson: decodePushJson,
      encodeBinary: () => new Uint8Array(0),
      encodeJson: () => ({}),
      handle: async (req, request, budget) => {
        const tenant = requestTenant(request);
        const nowMs = wp.nowMs();
        try {
          await wp.write(tenant, await decodePush(req, limits, nowMs, budget), nowMs);
        } catch (err) {
          // registerUnary answers with the error's status; keep Push on Connect's (400) statuses.
          throw toIngestError(err, 'push');
        }
        wp.metrics.ingestedBytes.inc({ tenant, api: 'push' }, bodyOf(request).length);
        return {};
      },
    },
    {
      maxDecompressedBytes: limits.maxDecompressedBodyBytes,
      maxJsonDepth: limits.maxJsonDepth,
      onDone: (path, seconds, status) => {
        wp.metrics.requestDuration.observe(seconds, { route: path, status: String(status) });
      },
    },
  );
}
