// Request bodies bounded before work starts: one decompression budget per request shared by every
// gzip layer (Content-Encoding, a gzipped profile inside it, gzip of gzip...), inflated on the zlib
// thread pool so a bomb never blocks the event loop; and a JSON nesting limit checked by a linear
// scan before JSON.parse, so deep input never reaches a recursive parser or importer.

import { gunzip } from 'node:zlib';
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
 * Decompressed bytes one request may still produce. Every layer of every part of the request draws
 * from it, so gzip(gzip(x)) costs |gzip(x)| + |x|, and a Push of many gzipped profiles costs their sum.
 */
export class InflateBudget {
  private usedBytes = 0;

  constructor(
    /** Bytes, e.g. Limits.maxDecompressedBodyBytes (write) or maxQueryBodyBytes (read). */
    readonly limitBytes: number,
  ) {}

  get remainingBytes(): number {
    return this.limitBytes - this.usedBytes;
  }

  /** Counts `bytes` of output; throws decompressed_too_large past the limit. */
  spend(bytes: number): void {
    this.usedBytes += bytes;
    if (this.usedBytes > this.limitBytes)
      throw bodyErrors.decompressedTooLarge(this.limitBytes, this.usedBytes);
  }
}

/**
 * One gzip layer, asynchronously, stopping as soon as the output passes `maxBytes`. 'too_large'
 * means the request's output is at least its limit + 1 bytes: that is what rejections report.
 */
function gunzipAtMost(bytes: Uint8Array, maxBytes: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    // maxOutputLength must be ≥ 1; a spent budget still lets an empty stream through.
    gunzip(bytes, { maxOutputLength: Math.max(1, maxBytes) }, (err, out) => {
      if (err === null) resolve(out.length > maxBytes ? 'too_large' : out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') resolve('too_large');
      else reject(bodyErrors.malformedGzip(err.message));
    });
  });
}

/**
 * Removes every gzip layer of `bytes` (recognised by the magic), spending the output of each layer
 * from `budget`: gzip(gzip(x)) stops at the same cap as gzip(x).
 */
export async function inflateLayers(bytes: Uint8Array, budget: InflateBudget): Promise<Uint8Array> {
  let out = bytes;
  while (isGzip(out)) {
    const next = await gunzipAtMost(out, budget.remainingBytes);
    if (next === 'too_large')
      throw bodyErrors.decompressedTooLarge(budget.limitBytes, budget.limitBytes + 1);
    budget.spend(next.length);
    out = next;
  }
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
    throw new HotpathError(
      'unsupported_encoding',
      415,
      'unimplemented',
      `content encoding '${enc}' is not supported; use gzip or identity`,
    );
  }
  if (!isGzip(body)) throw bodyErrors.malformedGzip('Content-Encoding is gzip but the body has no gzip header');
  const next = await gunzipAtMost(body, budget.remainingBytes);
  if (next === 'too_large')
    throw bodyErrors.decompressedTooLarge(budget.limitBytes, budget.limitBytes + 1);
  budget.spend(next.length);
  return next;
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
      if (c === 0x5c) i++; // backslash: skip the escaped byte (\" stays inside the string)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  if (deepest > limit) throw bodyErrors.jsonTooDeep(limit, deepest, where);
}
