// A small multipart/form-data parser (RFC 7578) for the pprof form of /ingest: the body is already in
// memory (bounded by the body limit), parts are sliced out without copying. Limits: part count and
// header size, so a hostile body cannot make us loop or allocate much.

import { IngestErrors } from './errors.ts';

export interface Part {
  readonly name: string;
  /** undefined for plain form fields (Pyroscope reads only file parts). */
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly data: Uint8Array;
}

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8 * 1024;

/** The boundary parameter of a multipart Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/multipart\/form-data/i.test(contentType)) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
}

export function parseMultipart(body: Uint8Array, boundary: string): Part[] {
  if (boundary.length === 0 || boundary.length > 200)
    throw IngestErrors.malformedMultipart(`boundary length ${boundary.length} is outside 1..200`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = indexOf(body, delimiter, 0);
  if (pos === -1) throw IngestErrors.malformedMultipart('the boundary does not occur in the body');
  for (;;) {
    pos += delimiter.length;
    // `--` right after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw IngestErrors.malformedMultipart(`expected a line break after the boundary at offset ${pos}`);
    let headerEnd = indexOf(body, Buffer.from('\r\n\r\n'), pos);
    let sep = 4;
    if (headerEnd === -1 || headerEnd - pos > MAX_HEADER_BYTES) {
      headerEnd = indexOf(body, Buffer.from('\n\n'), pos);
      sep = 2;
    }
    if (headerEnd === -1 || headerEnd - pos > MAX_HEADER_BYTES) {
      throw IngestErrors.malformedMultipart(
        `part headers at offset ${pos} are unterminated or longer than ${MAX_HEADER_BYTES} bytes`,
      );
    }
    const headers = Buffer.from(body.buffer, body.byteOffset + pos, headerEnd - pos).toString('utf8');
    const dataStart = headerEnd + sep;
    const next = indexOf(body, delimiter, dataStart);
    if (next === -1) throw IngestErrors.malformedMultipart('the closing boundary is missing');
    // The line break before the delimiter belongs to the delimiter.
    let dataEnd = next;
    if (body[dataEnd - 1] === 0x0a) dataEnd--;
    if (body[dataEnd - 1] === 0x0d) dataEnd--;
    if (dataEnd < dataStart) dataEnd = dataStart;
    let name: string | undefined;
    let filename: string | undefined;
    let contentType: string | undefined;
    for (const line of headers.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') {
        name = /(?:^|;)\s*name="([^"]*)"/i.exec(value)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(value)?.[1];
        filename = /filename="([^"]*)"/i.exec(value)?.[1] ?? /filename=([^;\s]+)/i.exec(value)?.[1];
      } else if (key === 'content-type') contentType = value;
    }
    if (name === undefined)
      throw IngestErrors.malformedMultipart(`part at offset ${pos} has no Content-Disposition name`);
    parts.push({ name, filename, contentType, data: body.subarray(dataStart, dataEnd) });
    if (parts.length > MAX_PARTS) throw IngestErrors.malformedMultipart(`more than ${MAX_PARTS} parts`);
    pos = next;
  }
}
