// IdTable: interns 64-bit ids (stack/function hashes) to dense indexes 0..n-1 without allocating a
// BigInt per lookup. Keys are read as two uint32 halves straight from a BigUint64Array's buffer;
// open addressing with linear probing over typed arrays, load factor ≤ 0.5.

export class IdTable {
  /** Slot s holds [hi, lo, index + 1 (0 = empty), unused] at 4s..4s+3: one cache line per probe. */
  private table: Uint32Array;
  private mask: number;
  /** Index → id halves, for `idAt`. */
  private idsHi: Uint32Array;
  private idsLo: Uint32Array;
  size = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.table = new Uint32Array(n * 4);
    this.mask = n - 1;
    this.idsHi = new Uint32Array(Math.max(16, capacity));
    this.idsLo = new Uint32Array(Math.max(16, capacity));
  }

  /** Offset (4 × slot) of (hi, lo) or of the empty slot where it belongs. */
  private slotOf(hi: number, lo: number): number {
    // Ids are hashes already; mix the halves once more for the slot.
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    const t = this.table;
    let s = h & this.mask;
    for (;;) {
      const o = s << 2;
      if (t[o + 2] === 0 || (t[o + 1] === lo && t[o] === hi)) return o;
      s = (s + 1) & this.mask;
    }
  }

  /** Index of (hi, lo) or -1. */
  getHalves(hi: number, lo: number): number {
    return this.table[this.slotOf(hi, lo) + 2]! - 1;
  }

  /** Index of (hi, lo), inserting it when new. */
  internHalves(hi: number, lo: number): number {
    const o = this.slotOf(hi, lo);
    const v = this.table[o + 2]!;
    if (v !== 0) return v - 1;
    const index = this.size++;
    this.table[o] = hi;
    this.table[o + 1] = lo;
    this.table[o + 2] = index + 1;
    if (index >= this.idsHi.length) {
      const nh = new Uint32Array(this.idsHi.length * 2);
      nh.set(this.idsHi);
      this.idsHi = nh;
      const nl = new Uint32Array(this.idsLo.length * 2);
      nl.set(this.idsLo);
      this.idsLo = nl;
    }
    this.idsHi[index] = hi;
    this.idsLo[index] = lo;
    if (this.size * 2 > this.mask + 1) this.grow();
    return index;
  }

  get(id: bigint): number {
    return this.getHalves(Number(id >> 32n), Number(id & 0xffffffffn));
  }

  intern(id: bigint): number {
    return this.internHalves(Number(id >> 32n), Number(id & 0xffffffffn));
  }

  idAt(index: number): bigint {
    return (BigInt(this.idsHi[index]!) << 32n) | BigInt(this.idsLo[index]!);
  }

  /** Writes id `index` into slot `pos` of a halves view (see halvesOf) without a BigInt. */
  writeId(index: number, halves: Uint32Array, pos: number): void {
    halves[2 * pos] = this.idsLo[index]!;
    halves[2 * pos + 1] = this.idsHi[index]!;
  }

  /** Interns every id of `ids` and returns their indexes (no BigInt allocated). */
  internAll(ids: BigUint64Array): Int32Array {
    const halves = halvesOf(ids);
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.internHalves(halves[2 * i + 1]!, halves[2 * i]!);
    return out;
  }

  /** Looks up every id of `ids`: index or -1. */
  getAll(ids: BigUint64Array): Int32Array {
    const halves = halvesOf(ids);
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.getHalves(halves[2 * i + 1]!, halves[2 * i]!);
    return out;
  }

  private grow(): void {
    const old = this.table;
    const n = (this.mask + 1) * 2;
    this.table = new Uint32Array(n * 4);
    this.mask = n - 1;
    for (let o = 0; o < old.length; o += 4) {
      if (old[o + 2] === 0) continue;
      const t = this.slotOf(old[o]!, old[o + 1]!);
      this.table[t] = old[o]!;
      this.table[t + 1] = old[o + 1]!;
      this.table[t + 2] = old[o + 2]!;
    }
  }
}

/** Little-endian uint32 view of a BigUint64Array: element 2i is the low half of id i, 2i+1 the high. */
export function halvesOf(ids: BigUint64Array): Uint32Array {
  return new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
}
