// Stable content-hash ids (DESIGN.md "Stacks are interned by content hash"): the same function or
// stack gets the same 64-bit id in every process and every replica, so writers never coordinate.
//   function id = hash(name, file)
//   stack id    = hash(parent stack id, function id), with parent 0n for a root frame
// Ids are unsigned 64-bit integers carried as bigint at storage boundaries. 0n is never produced.

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

function join(h1: number, h2: number): bigint {
  const id = (BigInt(fmix32(h1 ^ Math.imul(h2, 0x9e3779b1))) << 32n) | BigInt(fmix32(h2 ^ h1));
  return id === 0n ? 1n : id;
}

/** Id of a function: hash(name, file). */
export function functionId(name: string, file: string): bigint {
  let [h1, h2] = mixString(0x3c6ef372, 0xa54ff53a, name);
  [h1, h2] = mixString(h1, h2, file);
  return join(h1, h2);
}

/** Id of a stack: hash(parent stack id, function id); parent is 0n for a one-frame stack. */
export function stackId(parent: bigint, fn: bigint): bigint {
  const p = parent & MASK64;
  const f = fn & MASK64;
  let h1 = 0x510e527f;
  let h2 = 0x9b05688c;
  for (const w of [Number(p >> 32n), Number(p & 0xffffffffn), Number(f >> 32n), Number(f & 0xffffffffn)]) {
    h1 = Math.imul(h1 ^ w, 0xcc9e2d51);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ w, 0x1b873593);
    h2 = (h2 << 13) | (h2 >>> 19);
  }
  return join(h1, h2);
}
