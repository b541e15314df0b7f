// Protobuf wire-format primitives shared by the pprof codec and the legacy trie/tree formats
// (https://protobuf.dev/programming-guides/encoding/). Readers are plain functions over
// (bytes, offset) so hot loops stay monomorphic; the writer is a growable byte buffer.

import { FormatError } from '../errors.ts';
import { encodeUtf8 } from './utf8.ts';
import { clampInt64 } from '../model.ts';

/** Wire types. */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

/**
 * Decoder state: `pos` is advanced by every read. One object per decode keeps readers
 * allocation-free (no tuple returns).
 */
export interface Cursor {
  readonly bytes: Uint8Array;
  pos: number;
  /** Prefix for error codes, e.g. 'pprof' → 'pprof_truncated'. */
  readonly format: string;
}

export function truncated(c: Cursor, at: number, what: string): FormatError {
  return new FormatError(
    `${c.format}_truncated`,
    `${c.format}: truncated input: ${what} at offset ${at} runs past the end (${c.bytes.length} bytes)`,
    {
      offset: at,
      length: c.bytes.length,
    },
  );
}

/**
 * Reads an unsigned varint as a number. Values ≥ 2^53 lose precision (profiles never need them);
 * a varint longer than 10 bytes is rejected as '<format>_bad_varint'.
 */
export function readVarint(c: Cursor, end: number): number {
  const b = c.bytes;
  let p = c.pos;
  if (p >= end) throw truncated(c, p, 'varint');
  let byte = b[p++]!;
  if (byte < 0x80) {
    c.pos = p;
    return byte;
  }
  let v = byte & 0x7f;
  if (p >= end) throw truncated(c, c.pos, 'varint');
  byte = b[p++]!;
  v |= (byte & 0x7f) << 7;
  if (byte < 0x80) {
    c.pos = p;
    return v;
  }
  if (p >= end) throw truncated(c, c.pos, 'varint');
  byte = b[p++]!;
  v |= (byte & 0x7f) << 14;
  if (byte < 0x80) {
    c.pos = p;
    return v;
  }
  if (p >= end) throw truncated(c, c.pos, 'varint');
  byte = b[p++]!;
  v |= (byte & 0x7f) << 21;
  if (byte < 0x80) {
    c.pos = p;
    return v;
  }
  return readVarintSlow(c, end, v);
}

/** Bytes 5..10 of a varint: combine in floating point (exact below 2^53). */
function readVarintSlow(c: Cursor, end: number, low28: number): number {
  const b = c.bytes;
  const start = c.pos;
  let p = start + 4;
  let v = low28;
  let mul = 268435456; // 2^28
  for (let i = 4; i < 10; i++) {
    if (p >= end) throw truncated(c, start, 'varint');
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      c.pos = p;
      return v;
    }
    mul *= 128;
  }
  throw new FormatError(
    `${c.format}_bad_varint`,
    `${c.format}: varint at offset ${start} is longer than 10 bytes`,
    { offset: start },
  );
}

/**
 * Reads a varint as a signed int64 (two's complement, as protobuf `int64` values are written).
 * A negative value is 10 bytes long with bit 63 set; it is rebuilt from exact 32-bit halves
 * because 2^64 - 3 is not representable as a double.
 */
export function readInt64(c: Cursor, end: number): number {
  const start = c.pos;
  const v = readVarint(c, end);
  if (c.pos - start < 10) return v;
  const b = c.bytes;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    const bits = b[start + i]! & 0x7f;
    const shift = 7 * i;
    if (shift < 32) {
      lo |= bits << shift;
      if (shift + 7 > 32) hi |= bits >>> (32 - shift);
    } else {
      hi |= bits << (shift - 32);
    }
  }
  lo >>>= 0;
  if (hi >= 0) return (hi >>> 0) * 4294967296 + lo;
  return -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1);
}

/** Skips one field value of wire type `wt` (the tag was already read). */
export function skipField(c: Cursor, wt: number, end: number, field: number): void {
  switch (wt) {
    case VARINT:
      readVarint(c, end);
      return;
    case I64:
      if (c.pos + 8 > end) throw truncated(c, c.pos, `field ${field}`);
      c.pos += 8;
      return;
    case LEN: {
      const at = c.pos;
      const len = readVarint(c, end);
      if (c.pos + len > end) throw truncated(c, at, `field ${field} (${len} bytes)`);
      c.pos += len;
      return;
    }
    case I32:
      if (c.pos + 4 > end) throw truncated(c, c.pos, `field ${field}`);
      c.pos += 4;
      return;
    default:
      throw wireTypeError(c, c.pos, field, wt);
  }
}

export function wireTypeError(
  c: Cursor,
  at: number,
  field: number,
  wt: number,
  expected?: number,
): FormatError {
  const exp = expected === undefined ? '' : ` (expected ${expected})`;
  return new FormatError(
    `${c.format}_wire_type`,
    `${c.format}: field ${field} has wire type ${wt}${exp} at offset ${at}`,
    {
      offset: at,
      field,
      wireType: wt,
    },
  );
}

/**
 * Reads a LEN prefix and returns the end offset of the payload, checking it is in bounds. The
 * error names `what[index].sub` (built only on error: this runs once per sample).
 */
export function readLenEnd(c: Cursor, end: number, what: string, index = -1, sub = ''): number {
  const at = c.pos;
  const len = readVarint(c, end);
  const e = c.pos + len;
  if (e > end) throw truncated(c, at, `${index === -1 ? what : `${what}[${index}].${sub}`} (${len} bytes)`);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Writer

/** Growable byte buffer with protobuf field writers. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned varint of a non-negative integer ≤ 2^53; negative integers are written as int64 (10 bytes). */
  varint(v: number): void {
    this.ensure(10);
    // Anything else (NaN, ±Infinity, beyond int64) would loop or overrun the 10 bytes: clamp it.
    if (!(v >= 0 && v < 2 ** 63)) v = clampInt64(v);
    if (v < 0) {
      this.int64Negative(v);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.pos = p;
  }

  private int64Negative(v: number): void {
    // Two's complement over 64 bits, via BigInt: rare (negative pprof values), so clarity wins.
    let u = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wt: number): void {
    this.varint(field * 8 + wt);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A LEN field holding `b`. */
  lenField(field: number, b: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(b.length);
    this.bytes(b);
  }

  stringField(field: number, s: string): void {
    this.lenField(field, encodeUtf8(s));
  }

  /** A VARINT field, omitted when 0 (proto3 default). */
  varintField(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** A packed repeated varint field. */
  packedField(field: number, values: ArrayLike<number>, scratch: ByteWriter): void {
    if (values.length === 0) return;
    scratch.pos = 0;
    for (let i = 0; i < values.length; i++) scratch.varint(values[i]!);
    this.tag(field, LEN);
    this.varint(scratch.pos);
    this.bytes(scratch.buf.subarray(0, scratch.pos));
  }

  /** Appends the contents of `w` as a LEN field. */
  messageField(field: number, w: ByteWriter): void {
    this.tag(field, LEN);
    this.varint(w.pos);
    this.bytes(w.buf.subarray(0, w.pos));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
