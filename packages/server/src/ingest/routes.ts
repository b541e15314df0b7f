// Write path routes: POST /ingest and /pyroscope/ingest (compat spec §1), the Connect
// POST /push.v1.PusherService/Push (§2) and OpenTelemetry profiles (OTLP/HTTP POST
// /v1development/profiles, and the gRPC ProfilesService/Export that h2c.ts bridges here). Each request is decoded, validated and normalised in full
// before anything is handed to the group committer, so a rejected request leaves no data behind.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerDeps } from '../deps.ts';
import { InflateBudget, decodeContentEncoding } from '../body.ts';
import {
  addConnectBodyParsers,
  mediaType,
  parseJsonObject,
  registerUnary,
  sendError,
} from '../connect/unary.ts';
import { HotpathError, requestErrors } from '../errors.ts';
import { resolveLimits, type Limits } from '../limits.ts';
import { Metrics } from '../metrics.ts';
import { requestTenant } from '../auth/hook.ts';
import { IngestRateLimiter } from '../auth/rate-limit.ts';
import { GroupCommitter } from './committer.ts';
import { decodeIngest, decodePush } from './decode.ts';
import type { IngestQuery } from './params.ts';
import { IngestErrors, toIngestError, type IngestApi } from './errors.ts';
import { BatchBuilder, type Upload } from './normalize.ts';
import {
  atProfile,
  decodeOtlpBinary,
  decodeOtlpJson,
  OTLP_GRPC_PATH,
  OTLP_HTTP_PATH,
  otlpResponse,
  otlpUploads,
  type ExportProfilesServiceRequest,
} from './otlp.ts';
import { decodePushBinary, decodePushJson, type PushRequest } from './push.ts';
import { SeriesLimiter } from './series-limit.ts';
import { RuleRecorder, type RuleEvaluator } from '../rules/recorder.ts';

export const PUSH_PATH = '/push.v1.PusherService/Push';

/** Which route family a request URL belongs to (metrics label and error statuses). */
function apiOf(url: string): IngestApi {
  if (url.startsWith(PUSH_PATH)) return 'push';
  if (url.startsWith(OTLP_HTTP_PATH) || url.startsWith(OTLP_GRPC_PATH)) return 'otlp';
  return 'ingest';
}

/** At most this many rejected profiles are described in an OTLP partial-success message. */
const OTLP_MESSAGE_PROFILES = 5;
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
  /** Recording rules (rules/): evaluated over each request's normalised profiles, counted once committed. */
  readonly rules: RuleRecorder;
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
    this.rules = new RuleRecorder(this.limits.maxRecordingRuleSeries, this.metrics);
  }

  /** Validates and normalises every upload, checks the series limit, then waits for the group commit. */
  async write(tenant: string, uploads: readonly Upload[], nowMs: number): Promise<void> {
    const rules = this.rules.evaluator(tenant);
    const builder = new BatchBuilder(tenant, this.limits, nowMs, this.committedStacks, rules);
    for (const u of uploads) builder.add(u);
    await this.commit(tenant, builder, nowMs, rules);
  }

  /**
   * Like write, but each upload is accepted or rejected on its own (OTLP partial success): returns
   * each upload's error, or undefined when it was written. Limits on the whole request (series,
   * rate, commit) still reject it all, by throwing.
   */
  async writeEach(tenant: string, uploads: readonly Upload[], nowMs: number): Promise<unknown[]> {
    const rules = this.rules.evaluator(tenant);
    const builder = new BatchBuilder(tenant, this.limits, nowMs, this.committedStacks, rules);
    const errors = uploads.map((u) => builder.tryAdd(u));
    if (errors.some((e) => e === undefined)) await this.commit(tenant, builder, nowMs, rules);
    return errors;
  }

  private async commit(
    tenant: string,
    builder: BatchBuilder,
    nowMs: number,
    rules: RuleEvaluator | undefined,
  ): Promise<void> {
    const batch = builder.result();
    this.rateLimiter.takeProfiles(tenant, batch.profiles.length);
    this.seriesLimiter.admit(
      tenant,
      batch.profiles.map((p) => p.labels),
      nowMs,
    );
    await this.committer.submit(batch);
    if (rules !== undefined) this.rules.apply(rules.hits);
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
        api: apiOf(request.url),
      });
    }
    return payload;
  });

  // Body-limit and parser errors happen before a handler runs: answer them with coded errors.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const api = apiOf(request.url);
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
      return wp.reject(reply, requestErrors.badRequest(err.statusCode, err.message), api);
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

  registerOtlpRoutes(app, wp);
}

/**
 * Writes every profile of an OTLP request that can be written; returns how many were rejected and
 * why (OTLP partial success). When every profile is rejected the first rejection is thrown, so a
 * request with nothing usable is a coded 4xx like on every other write route.
 */
async function exportOtlp(
  wp: WritePath,
  tenant: string,
  req: ExportProfilesServiceRequest,
  nowMs: number,
): Promise<{ rejected: number; message: string }> {
  const entries = otlpUploads(req, nowMs);
  if (entries.length === 0) return { rejected: 0, message: 'the request carried no profiles' };
  const mapped = entries.filter((e) => e.error === undefined);
  const writeErrors = await wp.writeEach(
    tenant,
    mapped.map((e) => e.upload!),
    nowMs,
  );
  const failed: { where: string; error: unknown }[] = [];
  let m = 0;
  for (const e of entries) {
    const error = e.error ?? writeErrors[m++];
    if (error === undefined) continue;
    // Not a coded rejection: a bug, answered as a 500 rather than counted as the sender's fault.
    if (!(error instanceof HotpathError)) throw error;
    failed.push({ where: e.where, error: atProfile(e.where, error) });
  }
  if (failed.length === entries.length) throw failed[0]!.error;
  const shown = failed.slice(0, OTLP_MESSAGE_PROFILES).map((f) => (f.error as Error).message);
  if (failed.length > shown.length) shown.push(`and ${failed.length - shown.length} more`);
  return { rejected: failed.length, message: shown.join('; ') };
}

/** OTLP/HTTP (protobuf and JSON, gzip) and the gRPC Export method, both on exportOtlp. */
function registerOtlpRoutes(app: FastifyInstance, wp: WritePath): void {
  const limits = wp.limits;
  const ingested = (tenant: string, request: FastifyRequest) =>
    wp.metrics.ingestedBytes.inc({ tenant, api: 'otlp' }, bodyOf(request).length);

  app.route({
    method: 'POST',
    url: OTLP_HTTP_PATH,
    bodyLimit: limits.maxBodyBytes,
    handler: async (request, reply) => {
      const started = performance.now();
      try {
        const type = mediaType(request);
        const json = type === 'application/json';
        if (!json && type !== 'application/x-protobuf' && type !== 'application/protobuf')
          throw requestErrors.unsupportedMediaType(
            type,
            'OTLP/HTTP takes application/x-protobuf or application/json',
          );
        const budget = new InflateBudget(limits.maxDecompressedBodyBytes);
        const body = await decodeContentEncoding(
          Buffer.from(bodyOf(request)),
          request.headers['content-encoding'] as string | undefined,
          budget,
        );
        const req = json
          ? decodeOtlpJson(parseJsonObject(body, limits.maxJsonDepth))
          : decodeOtlpBinary(body);
        const tenant = requestTenant(request);
        const nowMs = wp.nowMs();
        const { rejected, message } = await exportOtlp(wp, tenant, req, nowMs);
        ingested(tenant, request);
        return reply
          .code(200)
          .type(json ? 'application/json' : 'application/x-protobuf')
          .send(
            json
              ? otlpResponse(rejected, message, true)
              : Buffer.from(otlpResponse(rejected, message, false)),
          );
      } catch (err) {
        return wp.reject(reply, err, 'otlp');
      } finally {
        wp.metrics.requestDuration.observe((performance.now() - started) / 1000, {
          route: OTLP_HTTP_PATH,
          status: String(reply.statusCode),
        });
      }
    },
  });

  // gRPC framing: one message, `flag(1) length(4, big-endian) bytes`; flag 1 = compressed with the
  // grpc-encoding (gzip). Errors are coded JSON bodies; h2c.ts turns them into grpc-status trailers.
  app.route({
    method: 'POST',
    url: OTLP_GRPC_PATH,
    bodyLimit: limits.maxBodyBytes,
    handler: async (request, reply) => {
      const started = performance.now();
      try {
        const type = mediaType(request);
        if (type !== 'application/grpc' && type !== 'application/grpc+proto')
          throw requestErrors.unsupportedMediaType(type, 'gRPC takes application/grpc over HTTP/2');
        const frame = Buffer.from(bodyOf(request));
        const length = frame.length >= 5 ? frame.readUInt32BE(1) : -1;
        if (length !== frame.length - 5)
          throw IngestErrors.malformedBody(
            'grpc',
            `expected one length-prefixed message; the body has ${frame.length} bytes, the prefix says ${Math.max(length, 0)} + 5`,
          );
        const budget = new InflateBudget(limits.maxDecompressedBodyBytes);
        let message: Buffer = frame.subarray(5);
        if ((frame[0]! & 1) === 1)
          message = await decodeContentEncoding(
            message,
            (request.headers['grpc-encoding'] as string | undefined) ?? '(none)',
            budget,
          );
        const tenant = requestTenant(request);
        const nowMs = wp.nowMs();
        const { rejected, message: why } = await exportOtlp(wp, tenant, decodeOtlpBinary(message), nowMs);
        ingested(tenant, request);
        const res = otlpResponse(rejected, why, false) as Uint8Array;
        const out = Buffer.alloc(5 + res.length);
        out.writeUInt32BE(res.length, 1);
        out.set(res, 5);
        return reply.code(200).type('application/grpc').send(out);
      } catch (err) {
        return wp.reject(reply, err, 'otlp');
      } finally {
        wp.metrics.requestDuration.observe((performance.now() - started) / 1000, {
          route: OTLP_GRPC_PATH,
          status: String(reply.statusCode),
        });
      }
    },
  });
}
