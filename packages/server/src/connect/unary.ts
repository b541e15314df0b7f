// Connect protocol unary handlers (https://connectrpc.com/docs/protocol): POST only (405), content
// types application/proto and application/json (415 otherwise), request Content-Encoding gzip within
// the request's decompression budget, JSON nesting checked before parsing (body.ts),
// errors as {"code","message"} JSON with the HTTP status of the Connect code. The body is decoded by
// the caller's own decoders so malformed input is a 400 invalid_argument, never a 500.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InflateBudget, checkJsonDepth, decodeContentEncoding } from '../body.ts';
import { HotpathError, requestErrors } from '../errors.ts';

export interface UnaryMethod<Req, Res> {
  /** e.g. '/querier.v1.QuerierService/SelectMergeStacktraces' */
  readonly path: string;
  decodeBinary(bytes: Uint8Array): Req;
  /** `json` is the parsed JSON value (protojson: lowerCamelCase, int64 as string or number). */
  decodeJson(json: unknown): Req;
  encodeBinary(res: Res): Uint8Array;
  /** Returns a JSON-serialisable value (int64 as strings, defaults omitted). */
  encodeJson(res: Res): unknown;
  /** `budget` is what is left of the request's decompression budget (e.g. for gzipped profiles inside). */
  handle(req: Req, request: FastifyRequest, budget: InflateBudget): Promise<Res>;
}

/** Adds a raw-bytes body parser for the Connect content types to this (encapsulated) Fastify scope. */
export function addConnectBodyParsers(app: FastifyInstance): void {
  for (const type of [
    'application/proto',
    'application/json',
    'application/connect+proto',
    'application/grpc',
    'application/grpc-web',
  ]) {
    // Fastify's built-in JSON parser would hand over an object: Connect decoders need the bytes.
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  }
  // Anything else also arrives as bytes so the handler can answer 415 itself.
  if (!app.hasContentTypeParser('*')) {
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  }
}

export function connectStatus(code: string): number {
  switch (code) {
    case 'invalid_argument':
    case 'out_of_range':
    case 'failed_precondition':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'permission_denied':
      return 403;
    case 'not_found':
      return 404;
    case 'resource_exhausted':
      return 429;
    case 'unimplemented':
      return 501;
    case 'unavailable':
      return 503;
    case 'deadline_exceeded':
      return 504;
    default:
      return 500;
  }
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof HotpathError) {
    // A rejection that knows when to come back says so (e.g. too_many_queries); other 503s: 5 s.
    const retryAfter = err.details['retry_after_s'];
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    else if (err.httpStatus === 503) reply.header('retry-after', '5');
    return reply.code(err.httpStatus).type('application/json').send(err.toJSON());
  }
  reply.log.error({ err }, 'internal error');
  const message = err instanceof Error ? err.message : String(err);
  return reply.code(500).type('application/json').send({ code: 'internal', message, error: 'internal' });
}

export function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function registerUnary<Req, Res>(
  app: FastifyInstance,
  method: UnaryMethod<Req, Res>,
  opts: {
    /** One decompression budget for the whole request (body and anything gzipped inside it). */
    maxDecompressedBytes: number;
    maxJsonDepth: number;
    onDone?: (path: string, seconds: number, status: number) => void;
  },
): void {
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH', 'POST'],
    url: method.path,
    handler: async (request, reply) => {
      const started = performance.now();
      try {
        if (request.method !== 'POST') {
          reply.header('allow', 'POST');
          throw requestErrors.methodNotAllowed(request.method, '', 'Connect unary methods take POST');
        }
        const type = mediaType(request);
        const budget = new InflateBudget(opts.maxDecompressedBytes);
        const body = await decodeContentEncoding(
          (request.body as Buffer | undefined) ?? Buffer.alloc(0),
          request.headers['content-encoding'] as string | undefined,
          budget,
        );
        let req: Req;
        let json: boolean;
        if (type === 'application/proto') {
          json = false;
          req = method.decodeBinary(body);
        } else if (type === 'application/json') {
          json = true;
          req = method.decodeJson(parseJsonObject(body, opts.maxJsonDepth));
        } else {
          throw requestErrors.unsupportedMediaType(type, 'use application/proto or application/json');
        }
        const res = await method.handle(req, request, budget);
        if (json)
          return reply
            .code(200)
            .type('application/json')
            .send(JSON.stringify(method.encodeJson(res)));
        return reply
          .code(200)
          .type('application/proto')
          .send(Buffer.from(method.encodeBinary(res)));
      } catch (err) {
        return sendError(reply, err);
      } finally {
        opts.onDone?.(method.path, (performance.now() - started) / 1000, reply.statusCode);
      }
    },
  });
}

/** A JSON request body that must be an object: nesting checked first, then parsed (coded errors). */
export function parseJsonObject(body: Buffer, maxJsonDepth: number): object {
  checkJsonDepth(body, maxJsonDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.length === 0 ? 'null' : body.toString('utf8'));
  } catch (e) {
    throw requestErrors.malformedJson(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw requestErrors.malformedJson('request body must be a JSON object');
  }
  return parsed;
}

/** protojson helpers: int64 arrives as a string or a number. */
export function jsonInt64(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  // Beyond 2^53 a JSON number is no longer the integer the client wrote (int64 travels as text).
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw requestErrors.malformedJson(
      `field '${field}' must be an integer within ±${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

export function jsonString(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw requestErrors.malformedJson(`field '${field}' must be a string`);
  return v;
}

export function jsonStrings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw requestErrors.malformedJson(`field '${field}' must be an array of strings`);
  return v.map((x, i) => jsonString(x, `${field}[${i}]`));
}
