// Who is asking, decided once per request before its body is read (Fastify onRequest hooks): with
// `--auth keys` the API key names the tenant and its scope; with `--auth none` X-Scope-OrgID names the
// tenant. Every route reads the tenant through `requestTenant`. Also the Origin check that keeps web
// pages on other origins from writing to the server (a loopback server included).

import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { sendError } from '../connect/unary.ts';
import { HotpathError } from '../errors.ts';
import type { ApiKeyScope } from '../store/types.ts';
import { tenantFromHeader } from '../tenant.ts';
import { AuthErrors } from './errors.ts';
import { credentialsOf, KeyRing, scopeAllows } from './keys.ts';

export type AuthMode = 'keys' | 'none';
export const AUTH_MODES: readonly AuthMode[] = ['keys', 'none'];

/** The caller, as put on the request by a guard. */
export interface Identity {
  readonly tenant: string;
  /** The key's scope; null with --auth none. */
  readonly scope: ApiKeyScope | null;
  /** The key's public id; null with --auth none. */
  readonly keyId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Auth.guard before the body is read; read it through requestTenant. */
    hotpathIdentity: Identity | null;
  }
}

/** The challenge of every 401: Bearer, not Basic, so a browser never pops up its own password dialog. */
export const WWW_AUTHENTICATE = 'Bearer realm="hotpath"';

/** The tenant of a request that passed a guard; the one way routes learn their tenant. */
export function requestTenant(request: FastifyRequest): string {
  const id = request.hotpathIdentity;
  if (id === null || id === undefined) throw AuthErrors.noIdentity(request.url);
  return id.tenant;
}

export class Auth {
  constructor(
    readonly mode: AuthMode,
    readonly keys: KeyRing,
  ) {}

  /** An onRequest hook: authenticates, checks `scope` (auth on) and puts the identity on the request. */
  guard(scope: ApiKeyScope): onRequestAsyncHookHandler {
    return async (request, reply) => {
      try {
        request.hotpathIdentity = await this.identify(request, scope);
      } catch (err) {
        return reject(reply, err);
      }
    };
  }

  private async identify(request: FastifyRequest, scope: ApiKeyScope): Promise<Identity> {
    const named = request.headers['x-scope-orgid'];
    if (this.mode === 'none') return { tenant: tenantFromHeader(named), scope: null, keyId: null };
    const creds = credentialsOf(request.headers.authorization);
    if (creds === undefined || creds.key === '') throw AuthErrors.missingApiKey();
    const key = await this.keys.lookup(creds.key);
    if (key === undefined) throw AuthErrors.invalidApiKey('the API key is not valid: unknown or revoked');
    if (!scopeAllows(key.scope, scope)) throw AuthErrors.insufficientScope(scope, key.scope, key.id);
    // A request may name its tenant, but only the key's own: a mismatch is a client misconfiguration
    // (or a probe) and is refused loudly rather than silently answered with another tenant's data.
    if (creds.user !== undefined && creds.user !== '' && creds.user !== key.tenant)
      throw AuthErrors.tenantMismatch('the basic auth user', creds.user, key.tenant);
    const header = Array.isArray(named) ? named[0] : named;
    if (header !== undefined && header !== '' && header !== key.tenant)
      throw AuthErrors.tenantMismatch('X-Scope-OrgID', header, key.tenant);
    return { tenant: key.tenant, scope: key.scope, keyId: key.id };
  }
}

function reject(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof HotpathError && err.httpStatus === 401)
    reply.header('www-authenticate', WWW_AUTHENTICATE);
  return sendError(reply, err);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * An onRequest hook for every route: a request that changes something (any method but GET/HEAD/OPTIONS)
 * and comes from a web page of another origin is refused. Browsers add `Origin` (and
 * `Sec-Fetch-Site`) to such requests and cannot forge them; SDKs, curl and Grafana's backend send
 * neither and pass. The page's origin must have this server's host (Host or X-Forwarded-Host: a
 * cross-origin page cannot set the latter without a CORS preflight, which Hotpath never grants).
 */
export const originCheck: onRequestAsyncHookHandler = async (request, reply) => {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  const host = (request.headers.host ?? '').toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return reject(reply, AuthErrors.originForbidden(origin ?? `a ${site} page`, host));
  if (origin === undefined) return;
  let originHost: string | null = null;
  try {
    originHost = origin === 'null' ? null : new URL(origin).host.toLowerCase();
  } catch {
    originHost = null;
  }
  const forwarded = String(request.headers['x-forwarded-host'] ?? '')
    .split(',')[0]!
    .trim()
    .toLowerCase();
  if (originHost !== null && (originHost === host || (forwarded !== '' && originHost === forwarded))) return;
  return reject(reply, AuthErrors.originForbidden(origin, host));
};

/** localhost, *.localhost, 127.0.0.0/8 and [::1], with or without a port. */
const LOOPBACK_HOST = /^(?:localhost|[a-z0-9.-]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * An onRequest hook for a server without auth listening on loopback: the Host header must name a
 * loopback address. A web page that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) sends its
 * own name as Host, is same-origin in the browser's eyes and would pass the Origin check.
 */
export const loopbackHostCheck: onRequestAsyncHookHandler = async (request, reply) => {
  const host = request.headers.host ?? '';
  if (LOOPBACK_HOST.test(host)) return;
  return reject(reply, AuthErrors.hostForbidden(host));
};
