// RowBinary (https://clickhouse.com/docs/en/interfaces/formats#rowbinary), the row format every
// ClickHouse since 1.1 reads and writes: little-endian fixed-width numbers, strings and arrays as a
// LEB128 length then the bytes/elements. Inserting RowBinary needs no text escaping at all, and 64-bit
// ids are copied as two 32-bit halves, never through a BigInt per sample.

const encoder = new TextEncoder();

export class RowBinaryWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  varUInt(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }

  /** A String column: LEB128 byte length then UTF-8 bytes. */
  string(s: string): void {
    this.bytes(encodeString(s));
  }

  /** Pre-encoded bytes (e.g. a string from encodeString(), written once per row). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** UInt64 from its low and high 32-bit halves. */
  u64Halves(lo: number, hi: number): void {
    this.ensure(8);
    this.view.setUint32(this.length, lo, true);
    this.view.setUint32(this.length + 4, hi, true);
    this.length += 8;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }

  i64(v: number): void {
    this.ensure(8);
    this.view.setBigInt64(this.length, BigInt(v), true);
    this.length += 8;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** The written bytes (a view, valid until the next write). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A String column's bytes (length prefix included), for values repeated on many rows. */
export function encodeString(s: string): Uint8Array {
  const utf8 = encoder.encode(s);
  const head: number[] = [];
  let n = utf8.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  head.push(n);
  const out = new Uint8Array(head.length + utf8.length);
  out.set(head);
  out.set(utf8, head.length);
  return out;
}

/** The 8 bytes of a UInt64 column value. */
export function encodeU64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

/** Concatenates response chunks into one buffer whose offset is 8-byte aligned (for typed-array views). */
export function alignedConcat(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(new ArrayBuffer(Math.ceil(total / 8) * 8), 0, total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Splits `rows` rows of (UInt64, Float64) (16 bytes each, from an aligned buffer) into the two columns,
 * copying 32-bit words so no BigInt is created per row.
 */
export function splitIdValueRows(
  bytes: Uint8Array,
  rows: number,
): { ids: BigUint64Array; values: Float64Array } {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, rows * 4);
  const doubles = new Float64Array(bytes.buffer, bytes.byteOffset, rows * 2);
  const ids = new BigUint64Array(rows);
  const idWords = new Uint32Array(ids.buffer);
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    idWords[2 * i] = words[4 * i]!;
    idWords[2 * i + 1] = words[4 * i + 1]!;
    values[i] = doubles[2 * i + 1]!;
  }
  return { ids, values };
}
