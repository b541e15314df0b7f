// gzip detection and bounded decompression (RFC 1952). The cap defends against gzip bombs: the
// stream is inflated in slices and stops as soon as the output passes `maxBytes`.

import { Gunzip, gzipSync } from 'fflate';
import { FormatError } from '../errors.ts';

/** Default cap on decompressed size: Pyroscope's ingestion body limit (256 MiB). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** Compressed bytes pushed per step; bounds how far one step can overshoot the cap (~1000× deflate ratio). */
const SLICE = 16 * 1024;

/** gzip at level 6 (what `gzip` and Go's pprof writer use by default). */
export function gzipBytes(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Decompresses gzip bytes, throwing 'decompressed_too_large' past `maxBytes` and 'gzip_invalid' on corrupt input. */
export function gunzipCapped(bytes: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const g = new Gunzip((chunk, final) => {
    total += chunk.length;
    if (total > maxBytes) {
      throw new FormatError(
        'decompressed_too_large',
        `decompressed size exceeds the limit of ${maxBytes} bytes (at least ${total} bytes)`,
        {
          limit: maxBytes,
          actual: total,
        },
      );
    }
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    for (let off = 0; off < bytes.length; off += SLICE) {
      const end = Math.min(off + SLICE, bytes.length);
      g.push(bytes.subarray(off, end), end === bytes.length);
    }
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(
      'gzip_invalid',
      `gzip: corrupt stream (${(e as Error).message}) in ${bytes.length} compressed bytes`,
      {
        length: bytes.length,
      },
    );
  }
  if (!ended) {
    throw new FormatError(
      'gzip_invalid',
      `gzip: stream ends early (${bytes.length} compressed bytes, ${total} decompressed)`,
      {
        length: bytes.length,
      },
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
