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
