// What `startServer` decides about exposure before it listens: whether the listen address is loopback
// (auth defaults to off only there), the URLs that reach the server, and the first admin key.

import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AuthMode } from './hook.ts';
import type { KeyRing } from './keys.ts';

/** localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x): reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The auth mode for a listen address: as asked, else 'none' on loopback and 'keys' elsewhere (a server
 * reachable from other machines never starts open unless told to, and then it warns loudly).
 */
export function resolveAuthMode(
  host: string,
  asked: AuthMode | undefined,
): { auth: AuthMode; warnings: string[] } {
  const loopback = isLoopbackHost(host);
  const auth = asked ?? (loopback ? 'none' : 'keys');
  const warnings =
    auth === 'none' && !loopback
      ? [
          `AUTHENTICATION IS OFF on ${host}: anyone who reaches this port can read and write every tenant's data. ` +
            'Use --auth keys (the default off loopback) unless a proxy in front authenticates every request.',
        ]
      : [];
  return { auth, warnings };
}

/**
 * The bound address as a URL, and the URLs that reach it: for a wildcard host (0.0.0.0, ::) one per
 * address of this machine's interfaces, loopback first.
 */
export function listenUrls(
  scheme: 'http' | 'https',
  host: string,
  port: number,
): { url: string; urls: string[] } {
  const fmt = (h: string) => `${scheme}://${h.includes(':') ? `[${h}]` : h}:${port}`;
  const url = fmt(host);
  if (host !== '0.0.0.0' && host !== '::') return { url, urls: [url] };
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && (host === '::' || a.family === 'IPv4'))
    .sort((a, b) => Number(b!.internal) - Number(a!.internal))
    .map((a) => fmt(a!.address));
  return { url, urls: [...new Set(addresses)] };
}

/**
 * With auth on and no active admin key in the store, makes one for tenant 'anonymous' so the operator
 * can manage keys at all (`hotpath keys create --url ...`); its text is returned to be shown once.
 */
export async function bootstrapAdminKey(
  keys: KeyRing,
  nowMs: number,
): Promise<{ key: string; id: string; tenant: string } | undefined> {
  const existing = await keys.list();
  if (existing.some((k) => k.scope === 'admin' && k.revokedMs === 0)) return undefined;
  const made = await keys.create('anonymous', 'admin', 'bootstrap (made at server start)', nowMs);
  return { key: made.key, id: made.record.id, tenant: made.record.tenant };
}
