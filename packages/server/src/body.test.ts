// The decompression bounds: one budget per request across gzip layers, and one pool per process
// across requests, so concurrent bombs hold at most the pool's bytes whatever their number.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HotpathError } from './errors.ts';
import { InflateBudget, InflatePool, inflateLayers } from './body.ts';

const MiB = 1024 * 1024;
const bomb = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof HotpathError ? `${e.httpStatus} ${e.code}` : String(e);
  }
}

describe('InflateBudget and InflatePool', () => {
  it('gzip of gzip spends one budget: it stops at the same limit as one layer', async () => {
    const x = Buffer.alloc(3 * MiB, 7);
    const inner = gzipSync(x);
    const out = await inflateLayers(gzipSync(inner), new InflateBudget(4 * MiB, new InflatePool(64 * MiB)));
    // Buffer.compare: toEqual walks 3 MiB element by element (tens of seconds on a loaded machine).
    expect(Buffer.compare(out, x)).toBe(0);
    // 3 MiB of output plus the inner layer's bytes: over a 3 MiB budget.
    expect(
      await codeOf(inflateLayers(gzipSync(inner), new InflateBudget(3 * MiB, new InflatePool(64 * MiB)))),
    ).toBe('413 decompressed_too_large');
  });

  it('eight concurrent bombs never hold more than the pool, and the pool is whole again after', async () => {
    const pool = new InflatePool(16 * MiB);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => codeOf(inflateLayers(bomb, new InflateBudget(8 * MiB, pool)))),
    );
    // Each is refused: past its own 8 MiB (413) or past the shared 16 MiB while others inflate (503).
    for (const r of results) expect(['413 decompressed_too_large', '503 server_busy']).toContain(r);
    expect(results).toContain('413 decompressed_too_large');
    expect(pool.peakBytes).toBeLessThanOrEqual(16 * MiB);
    expect(pool.held).toBe(0);
    // Nothing leaked: a normal body inflates afterwards.
    const ok = Buffer.from('a;b 1\n');
    expect(await inflateLayers(gzipSync(ok), new InflateBudget(8 * MiB, pool))).toEqual(ok);
    expect(pool.held).toBe(0);
  });

  it('server_busy names the pool limit and asks the client to retry', async () => {
    const pool = new InflatePool(1 * MiB);
    let err: unknown;
    try {
      await inflateLayers(bomb, new InflateBudget(64 * MiB, pool));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HotpathError);
    expect((err as HotpathError).toJSON()).toMatchObject({
      code: 'unavailable',
      error: 'server_busy',
      limit: MiB,
      retry_after_s: 1,
    });
    expect(pool.held).toBe(0);
  });

  it('malformed gzip is a 400 and gives its bytes back', async () => {
    const pool = new InflatePool(64 * MiB);
    const broken = Buffer.from(gzipSync(Buffer.alloc(MiB, 1)));
    broken.writeUInt32LE(0xdeadbeef, broken.length - 8); // bad CRC
    expect(await codeOf(inflateLayers(broken, new InflateBudget(8 * MiB, pool)))).toBe('400 malformed_gzip');
    expect(pool.held).toBe(0);
  });
});
