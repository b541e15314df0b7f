// HTTP/2 cleartext (h2c, prior knowledge: what gRPC clients speak without TLS) on the same port as
// HTTP/1.1. Each new connection's first bytes are compared with the HTTP/2 connection preface
// (`PRI * HTTP/2.0`): HTTP/2 goes to a node:http2 server, anything else to Fastify's own HTTP/1.1
// server. Every HTTP/2 request is answered by the same Fastify app through inject(), so routes,
// auth, Host/Origin checks, rate limits and coded errors are one mechanism for both protocols.
// gRPC (content type application/grpc*) gets its status as trailers: 200 → grpc-status 0; a coded
// error → its Connect code as the gRPC code of the same name, the message as grpc-message.
// With TLS (--tls-*) the server is HTTPS/1.1 only and this bridge is not installed.

import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { bodyErrors } from './body.ts';
import type { Limits } from './limits.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** gRPC status codes by Connect code (Connect's codes are gRPC's, spelled in snake_case). */
const GRPC_CODE: Readonly<Record<string, number>> = {
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
};

/** Headers HTTP/2 forbids (connection-specific) or that inject() sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function grpcMessage(s: string): string {
  return encodeURIComponent(s.slice(0, 1000));
}

/**
 * Routes HTTP/2-preface connections of `app.server` to an HTTP/2 server bridged to `app`. Call
 * before the app listens (it registers a preClose hook that ends HTTP/2 sessions).
 */
export function serveH2c(app: FastifyInstance, limits: Limits): void {
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // An idle session is closed like an idle keep-alive HTTP/1.1 connection.
    session.setTimeout(limits.keepAliveTimeoutMs, () => session.close());
  });
  h2.on('stream', (stream, headers) => {
    handleStream(app, limits, stream, headers).catch(() => stream.destroy());
  });
  // Before the HTTP server closes (it waits for every socket it accepted, these too): GOAWAY, so
  // streams in flight finish and the sessions end.
  app.addHook('preClose', async () => {
    for (const s of sessions) s.close();
  });

  const server = app.server;
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let head = Buffer.alloc(0);
    // Until the first bytes arrive the HTTP/1.1 header timeout does not run yet: this one does.
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const isH2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && head.length < PREFACE.length) return;
      socket.removeListener('data', onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (isH2) h2.emit('connection', socket);
      else for (const l of http1) l.call(server, socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
  });
}

async function handleStream(
  app: FastifyInstance,
  limits: Limits,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
): Promise<void> {
  const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
  const fail = (httpStatus: number, code: string, message: string, extra: Record<string, unknown> = {}) => {
    if (stream.destroyed) return;
    if (grpc)
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(GRPC_CODE[code] ?? 2),
          'grpc-message': grpcMessage(message),
        },
        { endStream: true },
      );
    else {
      stream.respond({ ':status': httpStatus, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ code, message, ...extra }));
    }
  };
  // The whole request within requestTimeoutMs, as over HTTP/1.1.
  stream.setTimeout(limits.requestTimeoutMs, () => {
    fail(408, 'deadline_exceeded', `request not received within ${limits.requestTimeoutMs} ms`, {
      error: 'request_timeout',
    });
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.maxBodyBytes) {
      const e = bodyErrors.bodyTooLarge(limits.maxBodyBytes);
      fail(413, e.connectCode, e.message, { error: e.code, limit: limits.maxBodyBytes });
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    chunks.push(chunk);
  }
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    plain[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  if (headers[':authority'] !== undefined && plain.host === undefined)
    plain.host = String(headers[':authority']);
  const res = await app.inject({
    method: String(headers[':method'] ?? 'GET') as 'POST',
    url: String(headers[':path'] ?? '/'),
    headers: plain,
    payload: Buffer.concat(chunks),
    remoteAddress: stream.session?.socket?.remoteAddress ?? '127.0.0.1',
  });
  if (stream.destroyed) return;
  if (grpc) {
    if (res.statusCode !== 200) {
      let code = 'unknown';
      let message = res.body;
      try {
        const j = JSON.parse(res.body) as { code?: unknown; message?: unknown };
        if (typeof j.code === 'string') code = j.code;
        if (typeof j.message === 'string') message = j.message;
      } catch {
        // not a coded body: the status alone says it
      }
      fail(res.statusCode, code, message);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(res.rawPayload);
    return;
  }
  const out: http2.OutgoingHttpHeaders = { ':status': res.statusCode };
  for (const [k, v] of Object.entries(res.headers)) {
    if (!DROPPED_RESPONSE_HEADERS.has(k.toLowerCase()) && v !== undefined) out[k] = v;
  }
  stream.respond(out);
  stream.end(res.rawPayload);
}
