// The server's error catalogue base: every rejection is an HotpathError with a stable `code`, an HTTP
// status, a Connect code and structured fields (limit, actual...). Codes live in ingest/errors.ts and
// query/errors.ts; docs/errors.md mirrors them.

export type ConnectCode =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'unknown';

export class HotpathError extends Error {
  constructor(
    /** Stable, documented, snake_case, e.g. 'body_too_large'. */
    readonly code: string,
    readonly httpStatus: number,
    readonly connectCode: ConnectCode,
    message: string,
    /** Structured facts, e.g. { limit: 4194304, actual: 5000000 }. */
    readonly details: Readonly<Record<string, string | number | boolean>> = {},
  ) {
    super(message);
    this.name = 'HotpathError';
  }

  /** The JSON error body: Connect's {code, message} plus Hotpath's stable error code and facts. */
  toJSON(): Record<string, unknown> {
    return { code: this.connectCode, message: this.message, error: this.code, ...this.details };
  }
}

const invalid = (code: string, message: string, details: Record<string, string | number> = {}) =>
  new HotpathError(code, 400, 'invalid_argument', message, details);

export const requestErrors = {
  /** A JSON body (Connect protojson, Push JSON) that does not parse or has a field of the wrong type. */
  malformedJson: (why: string) => invalid('malformed_json', why),
  /** A protobuf body that is truncated or has a field of the wrong wire type; facts `offset`, `field`. */
  malformedProtobuf: (why: string, details: Record<string, string | number> = {}) =>
    invalid('malformed_protobuf', why, details),
  /** Fastify refused the request before a route read it (e.g. a bad Content-Length). */
  badRequest: (status: number, message: string) =>
    new HotpathError('bad_request', status, 'invalid_argument', message),
  methodNotAllowed: (method: string, where: string, allowed: string) =>
    new HotpathError(
      'method_not_allowed',
      405,
      'unimplemented',
      `${method} is not allowed${where}; ${allowed}`,
    ),
  unsupportedMediaType: (type: string, accepted: string) =>
    new HotpathError(
      'unsupported_media_type',
      415,
      'unimplemented',
      `content type '${type || '(none)'}' is not supported; ${accepted}`,
    ),
  headerTooLarge: (limit: number) =>
    new HotpathError(
      'header_too_large',
      431,
      'resource_exhausted',
      `the request line and headers exceed the limit of ${limit} bytes (a long 'name' or URL?)`,
      { limit },
    ),
  requestTimeout: () =>
    new HotpathError(
      'request_timeout',
      408,
      'deadline_exceeded',
      'the request was not received in full before the server timeout',
    ),
  /** Not HTTP/1.1, or refused by Fastify's router. */
  malformedRequest: (message: string, details: Record<string, string | number> = {}) =>
    invalid('malformed_request', message, details),
  /** A path that is not valid percent-encoding (Fastify's router and the UI's file server meet it). */
  malformedPath: () => invalid('malformed_path', 'the path is not valid percent-encoding'),
  routeNotFound: (method: string, shownPath: string) =>
    new HotpathError('not_found', 404, 'not_found', `no route ${method} ${shownPath}`, {
      method: method.length > 16 ? method.slice(0, 16) : method,
    }),
  tenantIdTooLong: (limit: number, actual: number) =>
    invalid('tenant_id_too_long', `tenant id is ${actual} bytes, the limit is ${limit}`, { limit, actual }),
  tenantIdInvalid: (value: string) =>
    invalid(
      'tenant_id_invalid',
      `tenant id ${JSON.stringify(value)} has characters outside [A-Za-z0-9!-_.*'()] or is '.'/'..'`,
    ),
} as const;

/** Rejections of the server's own options (flags of `hotpath server`, startServer options). */
export const configErrors = {
  retentionUnsupported: (store: string) =>
    invalid(
      'retention_unsupported',
      `--retention works with the duckdb and clickhouse stores; the ${store} store lives only as long as the process`,
      { store },
    ),
  retentionTooShort: (limitMs: number, actualMs: number) =>
    invalid(
      'retention_too_short',
      `--retention must be at least 1d (whole days are dropped), got ${actualMs} ms`,
      { limit: limitMs, actual: actualMs },
    ),
  authConfig: (actual: string) => invalid('auth_config', `--auth must be keys or none, got '${actual}'`),
  tlsConfig: () => invalid('tls_config', '--tls-cert and --tls-key go together'),
} as const;
