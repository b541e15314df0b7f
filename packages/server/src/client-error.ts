// Requests Node's HTTP parser rejects before any route runs (a URL plus headers over maxHeaderSize,
// bytes that are not HTTP, a request that outlived the server's timeout) still get a coded JSON
// error body like every other rejection, then the connection is closed (the stream cannot be resynced).

import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HotpathError } from './errors.ts';

/** The coded error for a parser or socket error code of Node's `clientError` event. */
export function clientErrorOf(code: string | undefined, headerLimitBytes = maxHeaderSize): HotpathError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HotpathError(
        'header_too_large',
        431,
        'resource_exhausted',
        `the request line and headers exceed the limit of ${headerLimitBytes} bytes (a long 'name' or URL?)`,
        { limit: headerLimitBytes },
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HotpathError(
        'request_timeout',
        408,
        'deadline_exceeded',
        'the request was not received in full before the server timeout',
      );
    default:
      return new HotpathError(
        'malformed_request',
        400,
        'invalid_argument',
        `the request is not valid HTTP/1.1 (${code ?? 'parse error'})`,
        code === undefined ? {} : { parser_code: code },
      );
  }
}

/** A path that is not valid percent-encoding (Fastify's router and the UI's file server meet it). */
export function malformedPath(): HotpathError {
  return new HotpathError(
    'malformed_path',
    400,
    'invalid_argument',
    'the path is not valid percent-encoding',
  );
}

/** The coded 404 for a method and path no route answers (Fastify's own 404 body has no code). */
export function routeNotFound(method: string, url: string): HotpathError {
  const path = url.split('?')[0] ?? url;
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return new HotpathError('not_found', 404, 'not_found', `no route ${method} ${shown}`, {
    method: method.length > 16 ? method.slice(0, 16) : method,
  });
}

/** Fastify's `clientErrorHandler`: answers with the coded JSON body and closes the connection. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset or already-closed socket has nobody to answer.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || socket.destroyed) return;
  if (socket.writable) {
    const e = clientErrorOf(err.code);
    const body = JSON.stringify(e.toJSON());
    socket.write(
      `HTTP/1.1 ${e.httpStatus} ${STATUS_CODES[e.httpStatus] ?? ''}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
