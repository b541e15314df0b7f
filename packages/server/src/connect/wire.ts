// Minimal protobuf wire-format reader and writer for the Connect APIs (push.v1, querier.v1, types.v1).
// Messages are decoded by hand-written functions over ProtoReader; unknown fields are skipped.
// int64 fields are read as JS numbers (exact up to 2^53: ms timestamps and sample sums fit).

import { clampInt64 } from '@hotpath/core';
import { HotpathError, requestErrors } from '../errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

function malformed(what: string, offset: number): HotpathError {
  return requestErrors.malformedProtobuf(`malformed protobuf: ${what} at offset ${offset}`, { offset });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint', this.pos);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw malformed('varint longer than 10 bytes', this.pos);
  }

  /** A signed int64 varint (two's complement); negative values come back negative. */
  int64(): number {
    const start = this.pos;
    const v = this.varint();
    if (this.pos - start < 10) return v;
    // Ten-byte varints are negative numbers in two's complement: redo exactly with bigint.
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  /** Reads a field key; returns [fieldNumber, wireType]. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw malformed(`length ${len} past end of message`, this.pos);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    const start = this.pos;
    try {
      return utf8.decode(this.bytes());
    } catch (e) {
      if (e instanceof HotpathError) throw e;
      throw malformed('invalid UTF-8 in string', start);
    }
  }

  double(): number {
    if (this.pos + 8 > this.end) throw malformed('truncated double', this.pos);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A sub-reader over a length-delimited field. */
  message(): ProtoReader {
    const b = this.bytes();
    return new ProtoReader(
      this.buf,
      b.byteOffset - this.buf.byteOffset,
      b.byteOffset - this.buf.byteOffset + b.length,
    );
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        throw malformed(`unsupported wire type ${wireType}`, this.pos);
    }
    if (this.pos > this.end) throw malformed('truncated field', this.pos);
  }

  /** Reads packed or unpacked repeated varints into `out`. */
  repeatedInt64(wireType: number, out: number[]): void {
    if (wireType === WIRE_LEN) {
      const sub = this.message();
      while (!sub.done) out.push(sub.int64());
    } else out.push(this.int64());
  }
}

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  rawVarint(v: number): this {
    this.ensure(10);
    // Anything else (NaN, ±Infinity, beyond int64) would loop or overrun the 10 bytes: clamp it.
    if (!(v >= 0 && v < 2 ** 63)) v = clampInt64(v);
    if (v < 0) {
      // int64 negative: ten-byte two's complement.
      let big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
      while (big >= 0x80n) {
        this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.buf[this.pos++] = Number(big);
      return this;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Bytes without a tag or length (formats built from varints, such as Pyroscope's tree bytes). */
  rawBytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** Writes a varint field; default value 0 is omitted unless `always`. */
  int64(field: number, v: number, always = false): this {
    if (v === 0 && !always) return this;
    this.tag(field, WIRE_VARINT);
    return this.rawVarint(v);
  }

  bool(field: number, v: boolean): this {
    return v ? this.int64(field, 1) : this;
  }

  double(field: number, v: number, always = false): this {
    if (v === 0 && !always) return this;
    this.tag(field, WIRE_I64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
    return this;
  }

  bytes(field: number, b: Uint8Array, always = false): this {
    if (b.length === 0 && !always) return this;
    this.tag(field, WIRE_LEN);
    this.rawVarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  string(field: number, s: string, always = false): this {
    if (s === '' && !always) return this;
    return this.bytes(field, new TextEncoder().encode(s), true);
  }

  /** A nested message written by `fn` (always written, even when empty). */
  message(field: number, fn: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter();
    fn(sub);
    return this.bytes(field, sub.finish(), true);
  }

  /** Packed repeated int64. */
  packedInt64(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const sub = new ProtoWriter();
    for (let i = 0; i < values.length; i++) sub.rawVarint(values[i]!);
    return this.bytes(field, sub.finish(), true);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
