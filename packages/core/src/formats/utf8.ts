// Strict UTF-8 decoding: Pyroscope rejects profiles with invalid UTF-8 strings, so do we.
// Short ASCII strings (most symbol names) skip TextDecoder, whose per-call cost dominates for them.

// TextDecoder/TextEncoder exist in every JS runtime but core compiles without DOM or Node types,
// so they are reached through globalThis with the few members used here.
interface Utf8Codecs {
  TextDecoder: new (
    label: string,
    opts: { fatal: boolean; ignoreBOM: boolean },
  ) => { decode(b: Uint8Array): string };
  TextEncoder: new () => { encode(s: string): Uint8Array };
}
const codecs = globalThis as unknown as Utf8Codecs;
const strict = new codecs.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new codecs.TextEncoder();

/** UTF-8 bytes of a string. */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes bytes[start, end) or returns null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | null {
  const n = end - start;
  if (n === 0) return '';
  if (n <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  try {
    return strict.decode(bytes.subarray(start, end));
  } catch {
    return null;
  }
}

const lenient = new codecs.TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Decodes bytes[start, end) that the caller checked are all ASCII (one char per byte). */
export function decodeAscii(bytes: Uint8Array, start: number, end: number): string {
  return lenient.decode(bytes.subarray(start, end));
}

/** True when the whole buffer is valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return decodeUtf8(bytes, 0, bytes.length) !== null;
}
