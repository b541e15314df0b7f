// Stable content-hash ids (DESIGN.md "Stacks are interned by content hash"): the same function or
// stack gets the same 64-bit id in every process and every replica, so writers never coordinate.
//   function id = hash(name, file)
//   stack id    = hash(parent stack id, function id), with parent 0n for a root frame
// Ids are unsigned 64-bit integers carried as bigint at storage boundaries. 0n is never produced.
// The hash runs on two 32-bit lanes; the `*Lanes` forms write an id's high/low halves into
// Uint32Arrays so the write path can hash whole stack tables without BigInt work per node, and the
// bigint forms are those same computations joined into one bigint (so both give identical ids).

const MASK64 = (1n << 64n) - 1n;

/** Two independent 32-bit lanes (murmur3-style mixing) over UTF-16 code units. */
function mixString(h1: number, h2: number, s: string): [number, number] {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x85ebca6b);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 ^ c, 0xc2b2ae35);
    h2 = (h2 << 17) | (h2 >>> 15);
  }
  // Length and a separator so that ("ab","c") and ("a","bc") differ.
  h1 = Math.imul(h1 ^ s.length ^ 0x9e3779b9, 0x27d4eb2f);
  h2 = Math.imul(h2 ^ s.length ^ 0x7f4a7c15, 0x165667b1);
  return [h1, h2];
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Finalises lanes h1/h2 into the id's halves hi[at]/lo[at]; an id of 0 becomes 1. */
function finish(h1: number, h2: number, hi: Uint32Array, lo: Uint32Array, at: number): void {
  const idHi = fmix32(h1 ^ Math.imul(h2, 0x9e3779b1));
  const idLo = fmix32(h2 ^ h1);
  hi[at] = idHi;
  lo[at] = idHi === 0 && idLo === 0 ? 1 : idLo;
}

/** The 64-bit id whose high and low 32-bit halves are `hi` and `lo`. */
export function idFromLanes(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** functionId(name, file) written as halves to hi[at] (high 32 bits) and lo[at] (low 32 bits). */
export function functionIdLanes(
  name: string,
  file: string,
  hi: Uint32Array,
  lo: Uint32Array,
  at: number,
): void {
  let [h1, h2] = mixString(0x3c6ef372, 0xa54ff53a, name);
  [h1, h2] = mixString(h1, h2, file);
  finish(h1, h2, hi, lo, at);
}

/**
 * stackId(parent, fn) on 32-bit halves (parent 0/0 for a root frame), written to hi[at]/lo[at].
 * Each input word goes through both lanes in the order parent high, parent low, fn high, fn low;
 * unrolled because this runs once per stack node on ingest (helper calls cost ~3x until inlined).
 */
export function stackIdLanes(
  parentHi: number,
  parentLo: number,
  fnHi: number,
  fnLo: number,
  hi: Uint32Array,
  lo: Uint32Array,
  at: number,
): void {
  let h1 = 0x510e527f;
  let h2 = 0x9b05688c;
  h1 = Math.imul(h1 ^ parentHi, 0xcc9e2d51);
  h1 = (h1 << 15) | (h1 >>> 17);
  h2 = Math.imul(h2 ^ parentHi, 0x1b873593);
  h2 = (h2 << 13) | (h2 >>> 19);
  h1 = Math.imul(h1 ^ parentLo, 0xcc9e2d51);
  h1 = (h1 << 15) | (h1 >>> 17);
  h2 = Math.imul(h2 ^ parentLo, 0x1b873593);
  h2 = (h2 << 13) | (h2 >>> 19);
  h1 = Math.imul(h1 ^ fnHi, 0xcc9e2d51);
  h1 = (h1 << 15) | (h1 >>> 17);
  h2 = Math.imul(h2 ^ fnHi, 0x1b873593);
  h2 = (h2 << 13) | (h2 >>> 19);
  h1 = Math.imul(h1 ^ fnLo, 0xcc9e2d51);
  h1 = (h1 << 15) | (h1 >>> 17);
  h2 = Math.imul(h2 ^ fnLo, 0x1b873593);
  h2 = (h2 << 13) | (h2 >>> 19);
  finish(h1, h2, hi, lo, at);
}

// Scratch halves for the bigint forms (single-threaded, never held across calls).
const scratchHi = new Uint32Array(1);
const scratchLo = new Uint32Array(1);

/** Id of a function: hash(name, file). */
export function functionId(name: string, file: string): bigint {
  functionIdLanes(name, file, scratchHi, scratchLo, 0);
  return idFromLanes(scratchHi[0]!, scratchLo[0]!);
}

/** Id of a stack: hash(parent stack id, function id); parent is 0n for a one-frame stack. */
export function stackId(parent: bigint, fn: bigint): bigint {
  const p = parent & MASK64;
  const f = fn & MASK64;
  stackIdLanes(
    Number(p >> 32n),
    Number(p & 0xffffffffn),
    Number(f >> 32n),
    Number(f & 0xffffffffn),
    scratchHi,
    scratchLo,
    0,
  );
  return idFromLanes(scratchHi[0]!, scratchLo[0]!);
}
