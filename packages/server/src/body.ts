// Request bodies bounded before work starts: one decompression budget per request shared by every
// gzip layer (Content-Encoding, a gzipped profile inside it, gzip of gzip...), inflated on the zlib
// thread pool so a bomb never blocks the event loop; one process-wide bound on the bytes being
// inflated at once, so many concurrent bombs cost no more memory than a few; and a JSON nesting
// limit checked by a linear scan before JSON.parse, so deep input never reaches a recursive parser.

import { createGunzip } from 'node:zlib';
import { isGzip } from '@hotpath/core';
import { HotpathError } from './errors.ts';

/** The rejections of this module; IngestErrors re-exports them so each code has one definition. */
export const bodyErrors = {
  bodyTooLarge: (limit: number, actual?: number) =>
    new HotpathError(
      'body_too_large',
      413,
      'resource_exhausted',
      actual === undefined
        ? `request body exceeds the limit of ${limit} bytes`
        : `request body is ${actual} bytes, the limit is ${limit} bytes`,
      actual === undefined ? { limit } : { limit, actual },
    ),
  decompressedTooLarge: (limit: number, actual?: number) =>
    new HotpathError(
      'decompressed_too_large',
      413,
      'resource_exhausted',
      `decompressed body exceeds the limit of ${limit} bytes${actual === undefined ? '' : ` (at least ${actual} bytes)`}`,
      actual === undefined ? { limit } : { limit, actual },
    ),
  inflateBusy: (limit: number, actual: number) =>
    new HotpathError(
      'server_busy',
      503,
      'unavailable',
      `requests in flight are inflating ${actual} bytes at once, the server's limit is ${limit} bytes; retry shortly`,
      // Seconds for the Retry-After header (sendError copies it).
      { limit, actual, retry_after_s: 1 },
    ),
  unsupportedEncoding: (encoding: string) =>
    new HotpathError(
      'unsupported_encoding',
      415,
      'unimplemented',
      `content encoding '${encoding}' is not supported; use gzip or identity`,
    ),
  malformedGzip: (why: string) =>
    new HotpathError('malformed_gzip', 400, 'invalid_argument', `body is not valid gzip: ${why}`),
  jsonTooDeep: (limit: number, actual: number, where: string) =>
    new HotpathError(
      'json_too_deep',
      400,
      'invalid_argument',
      `${where} nests ${actual} levels of JSON arrays and objects, the limit is ${limit}`,
      { limit, actual },
    ),
} as const;

/**
 * Decompressed bytes held by every inflation under way in this process. Each output chunk is taken
 * from it as zlib produces it and given back when that layer ends (done, too large or failed), so
 * N concurrent gzip bombs hold at most the pool's limit, not N × the per-request limit: past it the
 * request that asks for more gets 503 server_busy with Retry-After (clients retry), never an OOM.
 */
export class InflatePool {
  private heldBytes = 0;
  private peak = 0;

  constructor(
    /** Bytes (Limits.maxInflatingBytes); buildServer sets it from the server's limits. */
    public limitBytes: number,
  ) {}

  /** False (taking nothing) when `bytes` more would pass the limit. */
  tryTake(bytes: number): boolean {
    if (this.heldBytes + bytes > this.limitBytes) return false;
    this.heldBytes += bytes;
    if (this.heldBytes > this.peak) this.peak = this.heldBytes;
    return true;
  }

  give(bytes: number): void {
    this.heldBytes -= bytes;
  }

  get held(): number {
    return this.heldBytes;
  }

  /** The most bytes ever held at once (tests check the bound). */
  get peakBytes(): number {
    return this.peak;
  }
}

/** The process's pool: inflated bytes are process memory, whatever app or request asks. */
export const inflatePool = new InflatePool(256 * 1024 * 1024);

/**
 * Decompressed bytes one request may still produce. Every layer of every part of the request draws
 * from it, so gzip(gzip(x)) costs |gzip(x)| + |x|, and a Push of many gzipped profiles costs their sum.
 */
export class InflateBudget {
  private usedBytes = 0;

  constructor(
    /** Bytes, e.g. Limits.maxDecompressedBodyBytes (write) or maxQueryBodyBytes (read). */
    readonly limitBytes: number,
    private readonly pool: InflatePool = inflatePool,
  ) {}

  get remainingBytes(): number {
    return this.limitBytes - this.usedBytes;
  }

  /**
   * One gzip layer, streamed on the zlib thread pool: stops as soon as the output passes what this
   * request may still produce (413 decompressed_too_large, reporting at least limit + 1 bytes) or
   * what the process may inflate at once (503 server_busy).
   */
  gunzipLayer(bytes: Uint8Array): Promise<Buffer> {
    const maxBytes = this.remainingBytes;
    const pool = this.pool;
    return new Promise((resolve, reject) => {
      const z = createGunzip({ chunkSize: 64 * 1024 });
      const chunks: Buffer[] = [];
      let taken = 0;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        pool.give(taken);
        z.destroy();
        fn();
      };
      z.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (taken + chunk.length > maxBytes)
          return settle(() => reject(bodyErrors.decompressedTooLarge(this.limitBytes, this.limitBytes + 1)));
        if (!pool.tryTake(chunk.length))
          return settle(() => reject(bodyErrors.inflateBusy(pool.limitBytes, pool.held + chunk.length)));
        taken += chunk.length;
        chunks.push(chunk);
      });
      z.on('end', () =>
        settle(() => {
          this.usedBytes += taken;
          resolve(Buffer.concat(chunks, taken));
        }),
      );
      z.on('error', (err) => settle(() => reject(bodyErrors.malformedGzip(err.message))));
      z.end(bytes);
    });
  }
}

/**
 * Removes every gzip layer of `bytes` (recognised by the magic), spending the output of each layer
 * from `budget`: gzip(gzip(x)) stops at the same cap as gzip(x).
 */
export async function inflateLayers(bytes: Uint8Array, budget: InflateBudget): Promise<Uint8Array> {
  let out = bytes;
  while (isGzip(out)) out = await budget.gunzipLayer(out);
  return out;
}

/** Decodes a Content-Encoding header's body (identity or gzip, the only ones Connect clients send). */
export async function decodeContentEncoding(
  body: Buffer,
  encoding: string | undefined,
  budget: InflateBudget,
): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip') {
    throw bodyErrors.unsupportedEncoding(enc);
  }
  if (!isGzip(body))
    throw bodyErrors.malformedGzip('Content-Encoding is gzip but the body has no gzip header');
  return budget.gunzipLayer(body);
}

/**
 * Throws json_too_deep when arrays/objects in `bytes` (UTF-8 JSON) nest deeper than `limit`.
 * One pass over the bytes, brackets inside strings ignored; malformed JSON is left to JSON.parse.
 */
export function checkJsonDepth(bytes: Uint8Array, limit: number, where = 'request body'): void {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte (\" stays inside the string)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  if (deepest > limit) throw bodyErrors.jsonTooDeep(limit, deepest, where);
}
