// The merged-by-name call tree every view starts from, in typed arrays (no per-node objects).
//
// Stacks are merged by frame NAME (as flame graphs show them): two frames `f` with different files
// or lines are one node. Node 0 is the root ("total"); a node's parent always has a smaller index,
// so totals are summed in one reverse pass. Children are NOT sorted here: views sort only the
// children they actually show (a 3 M-node tree truncated to 8 k nodes sorts ~8 k names).
// Several profiles can be merged into one shape, one value column per profile (diff views).

import type { Profile } from '../model.ts';
import { TransformError } from './errors.ts';

export interface NameTree {
  /** Distinct frame names; `nameId` indexes this. */
  readonly names: readonly string[];
  /** Number of nodes including the root. */
  readonly length: number;
  /** Parent node; -1 for the root. parent[i] < i. */
  readonly parent: Int32Array;
  /** Index into `names`; -1 for the root. */
  readonly nameId: Int32Array;
  /** Per value column (one per input profile): value of samples ending at the node. */
  readonly self: readonly Float64Array[];
  /** Per value column: self of the node and all its descendants. */
  readonly total: readonly Float64Array[];
  /** Children of node i are childList[childStart[i] .. childStart[i + 1]), in no particular order. */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
}

/** Orders names by Unicode code point (= UTF-8 byte order, what Pyroscope's Go code uses). */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      // UTF-16 puts surrogates (U+D800-DFFF, i.e. code points >= U+10000) below U+E000-FFFF; lift them.
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
      }
      return ca - cb;
    }
  }
  return a.length - b.length;
}

/** Builds one tree from several profiles (one value column each). Samples with stack -1 are skipped. */
export function buildNameTree(profiles: readonly Profile[]): NameTree {
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const columns = profiles.length;

  // Upper bound on nodes: 1 + every reached stack of every profile.
  const perProfile = profiles.map((p) => {
    const frameName = new Int32Array(p.frames.length);
    for (let f = 0; f < p.frames.length; f++) {
      const name = p.frames.name[f] ?? '';
      let id = nameIndex.get(name);
      if (id === undefined) {
        id = names.length;
        names.push(name);
        nameIndex.set(name, id);
      }
      frameName[f] = id;
    }
    const stackCount = p.stacks.length;
    const selfByStack = new Float64Array(stackCount);
    const reached = new Uint8Array(stackCount);
    const { stack, value } = p.samples;
    for (let i = 0; i < p.samples.length; i++) {
      const s = stack[i]!;
      if (s < 0 || s >= stackCount) continue;
      const v = value[i]!;
      if (v === 0) continue;
      selfByStack[s]! += v;
      reached[s] = 1;
    }
    const parent = p.stacks.parent;
    let reachedCount = 0;
    for (let s = stackCount - 1; s >= 0; s--) {
      if (reached[s] === 0) continue;
      reachedCount++;
      const ps = parent[s]!;
      if (ps >= 0) reached[ps] = 1;
    }
    return { frameName, selfByStack, reached, reachedCount };
  });

  let capacity = 1;
  for (const pp of perProfile) capacity += pp.reachedCount;
  const parent = new Int32Array(capacity);
  const nameId = new Int32Array(capacity);
  const self = Array.from({ length: columns }, () => new Float64Array(capacity));
  parent[0] = -1;
  nameId[0] = -1;
  let length = 1;

  // Open-addressing hash of (parent node, name id) -> node. Each slot is 3 adjacent ints
  // [parent, nameId, node] so a probe touches one cache line; node -1 marks an empty slot.
  let tableSize = 16;
  while (tableSize < capacity * 1.5) tableSize *= 2;
  const mask = tableSize - 1;
  const table = new Int32Array(tableSize * 3);
  for (let i = 2; i < table.length; i += 3) table[i] = -1;

  for (let c = 0; c < columns; c++) {
    const p = profiles[c]!;
    const { frameName, selfByStack, reached } = perProfile[c]!;
    const stackParent = p.stacks.parent;
    const stackFrame = p.stacks.frame;
    const nodeOfStack = new Int32Array(p.stacks.length);
    const colSelf = self[c]!;
    for (let s = 0; s < p.stacks.length; s++) {
      if (reached[s] === 0) continue;
      const ps = stackParent[s]!;
      if (ps >= s) {
        throw new TransformError('stack_order', `stack ${s} has parent ${ps}; parents must come first`, {
          index: s,
          parent: ps,
        });
      }
      const pn = ps < 0 ? 0 : nodeOfStack[ps]!;
      const nm = frameName[stackFrame[s]!]!;
      let slot = ((Math.imul(pn, 0x9e3779b1) ^ Math.imul(nm + 1, 0x85ebca77)) >>> 7) & mask;
      let node: number;
      for (;;) {
        const at = slot * 3;
        node = table[at + 2]!;
        if (node === -1) {
          node = length++;
          parent[node] = pn;
          nameId[node] = nm;
          table[at] = pn;
          table[at + 1] = nm;
          table[at + 2] = node;
          break;
        }
        if (table[at] === pn && table[at + 1] === nm) break;
        slot = (slot + 1) & mask;
      }
      nodeOfStack[s] = node;
      colSelf[node]! += selfByStack[s]!;
    }
  }

  const total = self.map((col) => {
    const t = col.slice(0, length);
    for (let i = length - 1; i > 0; i--) t[parent[i]!]! += t[i]!;
    return t;
  });
  const childStart = new Int32Array(length + 1);
  for (let i = 1; i < length; i++) childStart[parent[i]! + 1]!++;
  for (let i = 0; i < length; i++) childStart[i + 1]! += childStart[i]!;
  const fill = childStart.slice(0, length);
  const childList = new Int32Array(Math.max(0, length - 1));
  for (let i = 1; i < length; i++) childList[fill[parent[i]!]!++] = i;

  return {
    names,
    length,
    parent: parent.slice(0, length),
    nameId: nameId.slice(0, length),
    self: self.map((col) => col.slice(0, length)),
    total,
    childStart,
    childList,
  };
}

/**
 * The k-th largest value (k >= 1) of `values[from..]`, by quickselect on a copy; O(n).
 * Pyroscope's truncation threshold is "the maxNodes-th largest node total".
 */
export function kthLargest(values: Float64Array, k: number): number {
  const a = values.slice();
  const n = a.length;
  if (k < 1 || k > n) throw new RangeError(`k=${k} outside 1..${n}`);
  // k-th largest = element at index n - k in ascending order.
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot.
    let x = a[lo]!;
    let y = a[mid]!;
    let z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}
