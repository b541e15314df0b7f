// Requests Node's HTTP parser rejects before any route runs (a URL plus headers over maxHeaderSize,
// bytes that are not HTTP, a request that outlived the server's timeout) still get a coded JSON
// error body like every other rejection, then the connection is closed (the stream cannot be resynced).

import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { requestErrors, type HotpathError } from './errors.ts';

/** The coded error for a parser or socket error code of Node's `clientError` event. */
export function clientErrorOf(code: string | undefined, headerLimitBytes = maxHeaderSize): HotpathError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return requestErrors.headerTooLarge(headerLimitBytes);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestErrors.requestTimeout();
    default:
      return requestErrors.malformedRequest(
        `the request is not valid HTTP/1.1 (${code ?? 'parse error'})`,
        code === undefined ? {} : { parser_code: code },
      );
  }
}

/** The coded 404 for a method and path no route answers (Fastify's own 404 body has no code). */
export function routeNotFound(method: string, url: string): HotpathError {
  const path = url.split('?')[0] ?? url;
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return requestErrors.routeNotFound(method, shown);
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
