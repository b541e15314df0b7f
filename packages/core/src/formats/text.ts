// Helpers for the text formats (folded, lines, speedscope): strict UTF-8 input and a cheap
// "does this look like text" check for sniffers.

import { FormatError } from '../errors.ts';
import { decodeUtf8 } from './utf8.ts';

/** The whole input as a string; a leading BOM is dropped; invalid UTF-8 throws 'invalid_utf8'. */
export function decodeText(bytes: Uint8Array, format: string): string {
  const s = decodeUtf8(bytes, 0, bytes.length);
  if (s === null) {
    throw new FormatError('invalid_utf8', `${format}: input is not valid UTF-8 (${bytes.length} bytes)`, {
      length: bytes.length,
    });
  }
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/**
 * The head as text when it has no control bytes other than tab/CR/LF, else null. A multi-byte
 * character cut at the end of the head is dropped (the head is a prefix of the file).
 */
export function headText(head: Uint8Array): string | null {
  let end = head.length;
  for (let i = 0; i < end; i++) {
    const b = head[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return null;
    if (b === 0x7f) return null;
  }
  // Back off an incomplete trailing UTF-8 sequence (at most 3 bytes).
  for (let k = 0; k < 3 && end > 0 && (head[end - 1]! & 0xc0) === 0x80; k++) end--;
  if (end > 0 && head[end - 1]! >= 0xc0) end--;
  const s = decodeUtf8(head, 0, end);
  if (s === null) return null;
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Complete lines of a head (the last one is dropped when the head does not end in a newline and has others). */
export function headLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && !text.endsWith('\n')) lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim() !== '');
}

/** `<frames> <count>`: a non-blank stack, the last space, then decimal digits only. */
export function isFoldedLine(line: string): boolean {
  const space = line.lastIndexOf(' ');
  if (space <= 0 || space === line.length - 1) return false;
  for (let i = space + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return line.slice(0, space).trim() !== '';
}
