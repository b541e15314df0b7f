// API keys: made from 32 random bytes, stored as their SHA-256 (the key itself is shown once and never
// kept), bound to one tenant and one scope. `KeyRing` is the server's view of the keys: lookups by hash
// are cached for a few seconds, and a key revoked through this server is dropped from its cache at once.

import { createHash, randomBytes } from 'node:crypto';
import { AuthErrors } from './errors.ts';
import type { ApiKeyRecord, ApiKeyScope, Store } from '../store/types.ts';
import { tenantFromHeader } from '../tenant.ts';

export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['write', 'read', 'admin'];
/** Every key starts with this, so a leaked key is easy to recognise (and to scan for). */
export const API_KEY_PREFIX = 'hp_';
/** How long a lookup is trusted: a key revoked on another replica stops working within this. */
export const KEY_CACHE_TTL_MS = 5_000;
/** Cached lookups at most (unknown keys included, so guessing cannot grow the cache without bound). */
const KEY_CACHE_ENTRIES = 10_000;

/** Lowercase hex SHA-256 of the key text: what the store keeps. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** admin may do everything on its tenant plus key management and /metrics; read and write only that. */
export function scopeAllows(held: ApiKeyScope, needed: ApiKeyScope): boolean {
  return held === 'admin' || held === needed;
}

export function parseScope(text: string): ApiKeyScope {
  if ((API_KEY_SCOPES as readonly string[]).includes(text)) return text as ApiKeyScope;
  throw AuthErrors.invalidScope(API_KEY_SCOPES, text);
}

/** A new key and the record to store; the key text exists only in the return value. */
export function newApiKey(
  tenant: string,
  scope: ApiKeyScope,
  name: string,
  nowMs: number,
): { key: string; record: ApiKeyRecord } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const hash = hashApiKey(key);
  return {
    key,
    record: {
      id: hash.slice(0, 16),
      hash,
      tenant: tenantFromHeader(tenant),
      scope,
      name,
      createdMs: nowMs,
      revokedMs: 0,
    },
  };
}

/** What a request presented: the key, and the tenant it named in basic auth (if any). */
export interface Credentials {
  readonly key: string;
  /** Basic auth user; undefined for Bearer. */
  readonly user?: string;
}

/**
 * Reads `Authorization: Bearer <key>` or `Basic base64(user:key)`; undefined when absent, throws
 * invalid_api_key when malformed.
 */
export function credentialsOf(header: string | undefined): Credentials | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  const kind = m?.[1]?.toLowerCase();
  if (m === null || m[2] === undefined || (kind !== 'bearer' && kind !== 'basic'))
    throw AuthErrors.invalidApiKey(
      'the Authorization header is neither "Bearer <key>" nor "Basic <base64 user:key>"',
    );
  if (kind === 'bearer') return { key: m[2] };
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0)
    throw AuthErrors.invalidApiKey(
      'basic auth credentials are not "user:password" (user = tenant, password = API key)',
    );
  return { user: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

interface Cached {
  readonly record: ApiKeyRecord | undefined;
  readonly fetchedMs: number;
}

/** The keys as this server sees them: store lookups cached by hash for KEY_CACHE_TTL_MS. */
export class KeyRing {
  private readonly cache = new Map<string, Cached>();

  constructor(
    readonly store: Store,
    /** A monotonic clock in ms (not the server's wall clock, which tests may freeze). */
    private readonly clockMs: () => number = () => performance.now(),
    private readonly ttlMs = KEY_CACHE_TTL_MS,
  ) {}

  /** The active key with this text, or undefined (unknown or revoked). */
  async lookup(key: string): Promise<ApiKeyRecord | undefined> {
    const hash = hashApiKey(key);
    const now = this.clockMs();
    let hit = this.cache.get(hash);
    if (hit === undefined || now - hit.fetchedMs > this.ttlMs) {
      hit = { record: await this.store.apiKeyByHash(hash), fetchedMs: now };
      if (this.cache.size >= KEY_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.delete(hash);
      this.cache.set(hash, hit);
    }
    return hit.record !== undefined && hit.record.revokedMs === 0 ? hit.record : undefined;
  }

  async create(tenant: string, scope: ApiKeyScope, name: string, nowMs: number) {
    const made = newApiKey(tenant, scope, name, nowMs);
    await this.store.createApiKey(made.record);
    this.cache.delete(made.record.hash);
    return made;
  }

  /** Revokes in the store and forgets every cached lookup of the key, so its next request is a 401. */
  async revoke(id: string, nowMs: number): Promise<boolean> {
    const found = await this.store.revokeApiKey(id, nowMs);
    for (const [hash, c] of this.cache)
      if (hash.startsWith(id) || c.record?.id === id) this.cache.delete(hash);
    return found;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }
}
