// The error catalogue of authentication, authorisation, Origin checks and ingest rate limits
// (docs/errors.md "## Authentication and limits"). Messages state facts; they never echo a key.

import { HotpathError } from '../errors.ts';
import type { ApiKeyScope } from '../store/types.ts';

export const AuthErrors = {
  missingApiKey: () =>
    new HotpathError(
      'missing_api_key',
      401,
      'unauthenticated',
      'this server requires an API key: send Authorization: Bearer <key>, or basic auth with user = tenant and password = key',
    ),
  /** A key that is unknown or revoked, or an Authorization header that carries none. */
  invalidApiKey: (message: string) => new HotpathError('invalid_api_key', 401, 'unauthenticated', message),
  invalidScope: (scopes: readonly string[], actual: string) =>
    new HotpathError(
      'invalid_scope',
      400,
      'invalid_argument',
      `scope must be one of ${scopes.join(', ')}, got ${JSON.stringify(actual)}`,
      { actual },
    ),
  /** A route registered outside every auth guard asked for its tenant: a server bug, not a client's. */
  noIdentity: (url: string) =>
    new HotpathError('no_identity', 500, 'internal', `route ${url} has no auth guard`),
  insufficientScope: (required: ApiKeyScope, actual: ApiKeyScope, keyId: string) =>
    new HotpathError(
      'insufficient_scope',
      403,
      'permission_denied',
      `API key ${keyId} has scope '${actual}'; this route needs '${required}'`,
      { required, actual, key_id: keyId },
    ),
  tenantMismatch: (where: string, named: string, tenant: string) =>
    new HotpathError(
      'tenant_mismatch',
      403,
      'permission_denied',
      `${where} names tenant ${JSON.stringify(named)}, but the API key belongs to tenant ${JSON.stringify(tenant)}`,
      { tenant, requested: named },
    ),
  originForbidden: (origin: string, host: string) =>
    new HotpathError(
      'origin_forbidden',
      403,
      'permission_denied',
      `requests from ${origin} are not accepted: only pages served by this server (${host}) may send them`,
      { origin },
    ),
  hostForbidden: (host: string) =>
    new HotpathError(
      'host_forbidden',
      403,
      'permission_denied',
      `Host ${JSON.stringify(host)} is not a loopback name: this server runs without auth on loopback and answers only requests addressed to localhost, 127.0.0.1 or [::1]`,
      { host },
    ),
  authDisabled: () =>
    new HotpathError(
      'auth_disabled',
      403,
      'permission_denied',
      'API keys are managed only when the server runs with --auth keys (this one runs with --auth none)',
    ),
  keyNotFound: (id: string) =>
    new HotpathError('key_not_found', 404, 'not_found', `no API key has id ${JSON.stringify(id)}`, { id }),
  invalidKeyRequest: (why: string) =>
    new HotpathError('invalid_key_request', 400, 'invalid_argument', `invalid API key request: ${why}`),
  rateLimited: (
    tenant: string,
    unit: 'bytes' | 'profiles',
    limitPerSecond: number,
    burst: number,
    actual: number,
    retryAfterSeconds: number,
  ) =>
    new HotpathError(
      'rate_limited',
      429,
      'resource_exhausted',
      `tenant ${JSON.stringify(tenant)} sent ${actual} ${unit}; its ingest limit is ${limitPerSecond} ${unit}/s with bursts of ${burst}; retry in ${retryAfterSeconds} s`,
      { unit, limit: limitPerSecond, burst, actual, retry_after_s: retryAfterSeconds },
    ),
};
