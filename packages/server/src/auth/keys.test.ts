// Key text, credentials parsing, the cache's revocation semantics (this server: at once; another
// replica: after the cache TTL) and the token bucket, with fake clocks.
import { describe, expect, it } from 'vitest';
import { openMemoryStore } from '../store/memory.ts';
import { credentialsOf, hashApiKey, KeyRing, newApiKey, scopeAllows } from './keys.ts';
import { TokenBucket } from './rate-limit.ts';

describe('API keys', () => {
  it('are random, prefixed, and stored only as their SHA-256', () => {
    const a = newApiKey('acme', 'read', 'n', 1);
    const b = newApiKey('acme', 'read', 'n', 1);
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^hp_[A-Za-z0-9_-]{43}$/);
    expect(a.record.hash).toBe(hashApiKey(a.key));
    expect(a.record.id).toBe(a.record.hash.slice(0, 16));
    expect(JSON.stringify(a.record)).not.toContain(a.key);
  });

  it('scopes: admin implies read and write; read and write only themselves', () => {
    expect(
      scopeAllows('admin', 'read') && scopeAllows('admin', 'write') && scopeAllows('admin', 'admin'),
    ).toBe(true);
    expect(
      scopeAllows('read', 'write') || scopeAllows('write', 'read') || scopeAllows('write', 'admin'),
    ).toBe(false);
  });

  it('credentials: Bearer, Basic user:key (the key may contain colons), absent, malformed', () => {
    expect(credentialsOf('Bearer hp_abc')).toEqual({ key: 'hp_abc' });
    expect(credentialsOf(`Basic ${Buffer.from('acme:hp_a:b').toString('base64')}`)).toEqual({
      user: 'acme',
      key: 'hp_a:b',
    });
    expect(credentialsOf(undefined)).toBeUndefined();
    expect(() => credentialsOf('Digest x')).toThrow(/neither/);
    expect(() => credentialsOf(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toThrow(
      /user:password/,
    );
  });

  it('revocation: at once on the server that revoked, within the cache TTL on another replica', async () => {
    const store = await openMemoryStore();
    let clock = 0;
    const here = new KeyRing(store, () => clock, 5000);
    const replica = new KeyRing(store, () => clock, 5000);
    const made = await here.create('acme', 'write', '', 1);
    expect((await here.lookup(made.key))?.tenant).toBe('acme');
    expect((await replica.lookup(made.key))?.tenant).toBe('acme');
    await here.revoke(made.record.id, 2);
    expect(await here.lookup(made.key)).toBeUndefined();
    expect(await replica.lookup(made.key)).toBeDefined(); // cached
    clock += 5001;
    expect(await replica.lookup(made.key)).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to the burst, and says how long to wait', () => {
    const b = new TokenBucket(10, 20, 0);
    expect(b.take(20, 0)).toBe(0);
    expect(b.take(5, 0)).toBe(1); // 5 tokens at 10/s: 0.5 s, rounded up to whole seconds
    expect(b.take(5, 500)).toBe(0);
    expect(b.take(15, 2000)).toBe(0); // refilled to the burst (20), not beyond
    expect(b.take(10, 2000)).toBe(1);
  });

  it('a cost above the burst passes on a full bucket and is paid back before the next', () => {
    const b = new TokenBucket(10, 20, 0);
    expect(b.take(50, 0)).toBe(0);
    expect(b.take(1, 0)).toBe(4); // owes 30, then needs 1: 31 tokens at 10/s = 3.1 s, rounded up
    expect(b.take(1, 3100)).toBe(0);
  });
});
