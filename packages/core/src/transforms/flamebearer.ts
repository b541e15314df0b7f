// Flamebearer: Pyroscope's compact flame graph wire format (levels of delta-encoded tuples).
// Spec: Pyroscope pkg/model/flamegraph.go and flamegraph_diff.go (the project's compat reference §3.2).
//
// Single: each level is a flat array of 4-tuples [xDelta, total, self, nameIndex]. A node's self
// occupies its leftmost `self` ticks; its children follow at x + self in name order, then one
// synthetic `other` child holding every child whose total is below the truncation threshold.
// Rows list nodes by ascending x; xDelta = x - (previous x + previous total), the gap since the
// previous node's right edge. `names` are deduplicated in the order of Pyroscope's DFS, which pops
// the LAST child first (a LIFO stack): for a;b;e=1 a;c=2 a;c;d=1 that is total, a, c, d, b, e.
// Diff: 7-tuples [xLeftDelta, totalLeft, selfLeft, xRightDelta, totalRight, selfRight, nameIndex]
// over both trees merged into one shape; the two x columns are delta-encoded independently.

import { ProfileBuilder } from '../builder.ts';
import { FormatError } from '../errors.ts';
import { makeProfileType, type Profile, type ProfileType } from '../model.ts';
import { TransformError } from './errors.ts';
import { buildNameTree, compareNames, kthLargest, type NameTree } from './name-tree.ts';

export interface Flamebearer {
  /** Distinct names; index 0 is always "total". */
  names: string[];
  /** levels[depth] = flat 4-tuples [xDelta, total, self, nameIndex], ascending x. */
  levels: number[][];
  /** Total of the root, in the profile's sample unit. */
  numTicks: number;
  /** Largest self of any node shown (incl. `other` nodes). */
  maxSelf: number;
}

/** levels hold 7-tuples; numTicks = leftTicks + rightTicks. */
export interface FlamebearerDiff extends Flamebearer {
  leftTicks: number;
  rightTicks: number;
}

export interface FlamebearerOptions {
  /** Keep about this many nodes; the rest is merged into `other` nodes. <= 0 or absent: no limit. */
  maxNodes?: number;
}

export const OTHER_NAME = 'other';
export const TOTAL_NAME = 'total';

/** Assigns output name indexes: "total" is 0, every `other` (real or synthetic) shares one index. */
class NameIndexer {
  readonly names: string[] = [TOTAL_NAME];
  private readonly byNameId: Int32Array;
  private otherIndex = -1;

  constructor(private readonly tree: NameTree) {
    this.byNameId = new Int32Array(tree.names.length).fill(-1);
  }

  /** nameId -1 = the root; -2 = a synthetic `other`. */
  index(nameId: number): number {
    if (nameId === -1) return 0;
    if (nameId >= 0) {
      const known = this.byNameId[nameId]!;
      if (known !== -1) return known;
    }
    const name = nameId === -2 ? OTHER_NAME : this.tree.names[nameId]!;
    let i: number;
    if (name === TOTAL_NAME) i = 0;
    else if (name === OTHER_NAME) {
      if (this.otherIndex === -1) {
        this.otherIndex = this.names.length;
        this.names.push(OTHER_NAME);
      }
      i = this.otherIndex;
    } else {
      i = this.names.length;
      this.names.push(name);
    }
    if (nameId >= 0) this.byNameId[nameId] = i;
    return i;
  }
}

/** Children of `node` that pass `keep`, sorted by name (code point order). */
function keptChildren(tree: NameTree, node: number, keep: (child: number) => boolean): number[] {
  const out: number[] = [];
  const { childStart, childList } = tree;
  for (let k = childStart[node]!; k < childStart[node + 1]!; k++) {
    const c = childList[k]!;
    if (keep(c)) out.push(c);
  }
  if (out.length > 1) {
    const names = tree.names;
    const nameId = tree.nameId;
    out.sort((a, b) => compareNames(names[nameId[a]!]!, names[nameId[b]!]!));
  }
  return out;
}

/**
 * The truncation threshold: the maxNodes-th largest of `metric` over nodes `from..length-1`, or 0
 * when those nodes number maxNodes or fewer (then nothing is cut).
 */
function threshold(metric: Float64Array, from: number, maxNodes: number | undefined): number {
  if (maxNodes === undefined || !(maxNodes > 0)) return 0;
  const candidates = metric.subarray(from);
  if (candidates.length <= maxNodes) return 0;
  return kthLargest(candidates, Math.floor(maxNodes));
}

/** Rows were filled in visit order (descending x); emit them ascending with x delta-encoded. */
function encodeRows(rows: number[][], width: number, xColumns: readonly number[]): number[][] {
  return rows.map((row) => {
    const out = new Array<number>(row.length);
    const tuples = row.length / width;
    for (let t = 0; t < tuples; t++) {
      const src = (tuples - 1 - t) * width;
      for (let j = 0; j < width; j++) out[t * width + j] = row[src + j]!;
    }
    for (const xc of xColumns) {
      let prevEnd = 0;
      for (let i = 0; i < out.length; i += width) {
        const x = out[i + xc]!;
        out[i + xc] = x - prevEnd;
        prevEnd = x + out[i + xc + 1]!;
      }
    }
    return out;
  });
}

/** The flame graph of a profile in Pyroscope's single flamebearer format. Pure. */
export function toFlamebearer(profile: Profile, opts: FlamebearerOptions = {}): Flamebearer {
  return nameTreeToFlamebearer(buildNameTree([profile]), opts);
}

/** Encodes column 0 of a NameTree (shared by the server's read path through toFlamebearer). */
export function nameTreeToFlamebearer(tree: NameTree, opts: FlamebearerOptions = {}): Flamebearer {
  const total = tree.total[0]!;
  const self = tree.self[0]!;
  const nameId = tree.nameId;
  const names = tree.names;
  const minVal = threshold(total, 1, opts.maxNodes);
  const indexer = new NameIndexer(tree);
  const rows: number[][] = [];
  let maxSelf = 0;

  // DFS stack; node -1 is a synthetic `other` whose total is in stackOther.
  const stackNode: number[] = [0];
  const stackX: number[] = [0];
  const stackLevel: number[] = [0];
  const stackOther: number[] = [0];
  const keep = (c: number) => total[c]! >= minVal && names[nameId[c]!] !== OTHER_NAME;

  while (stackNode.length > 0) {
    const node = stackNode.pop()!;
    const x = stackX.pop()!;
    const level = stackLevel.pop()!;
    const otherValue = stackOther.pop()!;
    const nodeTotal = node === -1 ? otherValue : total[node]!;
    const nodeSelf = node === -1 ? otherValue : self[node]!;
    if (nodeSelf > maxSelf) maxSelf = nodeSelf;
    const nameIndex = indexer.index(node === -1 ? -2 : nameId[node]!);
    if (level === rows.length) rows.push([]);
    rows[level]!.push(x, nodeTotal, nodeSelf, nameIndex);
    if (node === -1) continue;

    let cursor = x + nodeSelf;
    let otherTotal = 0;
    const kept = keptChildren(tree, node, keep);
    let keptTotal = 0;
    for (const c of kept) {
      stackNode.push(c);
      stackX.push(cursor);
      stackLevel.push(level + 1);
      stackOther.push(0);
      cursor += total[c]!;
      keptTotal += total[c]!;
    }
    // Dropped children = all children minus kept ones (cheaper than visiting them again).
    otherTotal = nodeTotal - nodeSelf - keptTotal;
    if (otherTotal !== 0) {
      stackNode.push(-1);
      stackX.push(cursor);
      stackLevel.push(level + 1);
      stackOther.push(otherTotal);
    }
  }

  return { names: indexer.names, levels: encodeRows(rows, 4, [0]), numTicks: total[0]!, maxSelf };
}

/**
 * A diff flame graph of two profiles of the same type (left = baseline, right = comparison) in
 * Pyroscope's double flamebearer format. A node is kept if either side's total reaches the
 * threshold. Negative values are rejected (code `negative_value`). Pure.
 */
export function toFlamebearerDiff(
  left: Profile,
  right: Profile,
  opts: FlamebearerOptions = {},
): FlamebearerDiff {
  const tree = buildNameTree([left, right]);
  for (let side = 0; side < 2; side++) {
    const s = tree.self[side]!;
    for (let i = 0; i < tree.length; i++) {
      if (s[i]! < 0) {
        const which = side === 0 ? 'left' : 'right';
        throw new TransformError(
          'negative_value',
          `${which} profile has negative self ${s[i]} at function '${tree.names[tree.nameId[i]!]}'`,
          {
            side: which,
            value: s[i]!,
          },
        );
      }
    }
  }
  const [totalL, totalR] = tree.total as [Float64Array, Float64Array];
  const [selfL, selfR] = tree.self as [Float64Array, Float64Array];
  const nameId = tree.nameId;
  // Pyroscope counts the common root among the nodes here (combineMinValues), unlike the single case.
  const maxLR = new Float64Array(tree.length);
  for (let i = 0; i < tree.length; i++) maxLR[i] = totalL[i]! > totalR[i]! ? totalL[i]! : totalR[i]!;
  const minVal = threshold(maxLR, 0, opts.maxNodes);
  const keep = (c: number) => totalL[c]! >= minVal || totalR[c]! >= minVal;
  const indexer = new NameIndexer(tree);
  const rows: number[][] = [];
  let maxSelf = 0;

  const stackNode: number[] = [0];
  const stackXL: number[] = [0];
  const stackXR: number[] = [0];
  const stackLevel: number[] = [0];
  const stackOtherL: number[] = [0];
  const stackOtherR: number[] = [0];

  while (stackNode.length > 0) {
    const node = stackNode.pop()!;
    const xl = stackXL.pop()!;
    const xr = stackXR.pop()!;
    const level = stackLevel.pop()!;
    const oL = stackOtherL.pop()!;
    const oR = stackOtherR.pop()!;
    const tl = node === -1 ? oL : totalL[node]!;
    const tr = node === -1 ? oR : totalR[node]!;
    const sl = node === -1 ? oL : selfL[node]!;
    const sr = node === -1 ? oR : selfR[node]!;
    if (sl > maxSelf) maxSelf = sl;
    if (sr > maxSelf) maxSelf = sr;
    const nameIndex = indexer.index(node === -1 ? -2 : nameId[node]!);
    if (level === rows.length) rows.push([]);
    rows[level]!.push(xl, tl, sl, xr, tr, sr, nameIndex);
    if (node === -1) continue;

    let cl = xl + sl;
    let cr = xr + sr;
    let keptL = 0;
    let keptR = 0;
    for (const c of keptChildren(tree, node, keep)) {
      stackNode.push(c);
      stackXL.push(cl);
      stackXR.push(cr);
      stackLevel.push(level + 1);
      stackOtherL.push(0);
      stackOtherR.push(0);
      cl += totalL[c]!;
      cr += totalR[c]!;
      keptL += totalL[c]!;
      keptR += totalR[c]!;
    }
    const otherL = tl - sl - keptL;
    const otherR = tr - sr - keptR;
    if (otherL !== 0 || otherR !== 0) {
      stackNode.push(-1);
      stackXL.push(cl);
      stackXR.push(cr);
      stackLevel.push(level + 1);
      stackOtherL.push(otherL);
      stackOtherR.push(otherR);
    }
  }

  const leftTicks = totalL[0]!;
  const rightTicks = totalR[0]!;
  return {
    names: indexer.names,
    levels: encodeRows(rows, 7, [0, 3]),
    numTicks: leftTicks + rightTicks,
    maxSelf,
    leftTicks,
    rightTicks,
  };
}

// ---------------------------------------------------------------------------------------------
// Decoding

const DEFAULT_DECODE_TYPE = makeProfileType('unknown', 'samples', 'count');

function malformed(message: string, details: Record<string, string | number>): FormatError {
  return new FormatError('flamebearer_malformed', message, details);
}

/**
 * Turns levels back into (stack, self) samples. `valueColumns` are offsets of [x, total, self]
 * triples inside each tuple of `width` numbers; one ProfileBuilder sample value per triple.
 * A node's parent is the node of the level above whose [x, x + total) holds the node's x, looked
 * up in a column where the node has a positive total (in a diff a node may be empty on one side).
 */
function decodeLevels(
  fb: Pick<Flamebearer, 'names' | 'levels'>,
  width: number,
  valueColumns: readonly number[],
  types: readonly ProfileType[],
): Profile[] {
  const { names, levels } = fb;
  if (!Array.isArray(names) || !Array.isArray(levels)) {
    throw malformed('flamebearer needs arrays `names` and `levels`', {});
  }
  const cols = valueColumns.length;
  const b = new ProfileBuilder(types);
  const frameOfName = new Map<number, number>();
  let prevX: Float64Array[] = valueColumns.map(() => new Float64Array(0));
  let prevStack = new Int32Array(0);
  const values = new Array<number>(cols);
  for (let level = 0; level < levels.length; level++) {
    const row = levels[level];
    if (!Array.isArray(row) || row.length % width !== 0) {
      throw malformed(
        `level ${level} has ${Array.isArray(row) ? `${row.length} values` : typeof row}, not a multiple of ${width}`,
        { level, width },
      );
    }
    const n = row.length / width;
    const xs = valueColumns.map(() => new Float64Array(n));
    const stacks = new Int32Array(n);
    const prevEnd = new Float64Array(cols);
    for (let t = 0; t < n; t++) {
      const base = t * width;
      let column = -1;
      for (let c = 0; c < cols; c++) {
        const off = base + valueColumns[c]!;
        const xd = row[off];
        const tot = row[off + 1];
        const slf = row[off + 2];
        if (
          typeof xd !== 'number' ||
          typeof tot !== 'number' ||
          typeof slf !== 'number' ||
          !Number.isFinite(xd + tot + slf)
        ) {
          throw malformed(`level ${level} tuple ${t} has a non-numeric value`, { level, offset: off });
        }
        const x = prevEnd[c]! + xd;
        prevEnd[c] = x + tot;
        xs[c]![t] = x;
        values[c] = slf;
        if (column === -1 && tot > 0) column = c;
      }
      const nameIndex = row[base + width - 1];
      if (
        typeof nameIndex !== 'number' ||
        !Number.isInteger(nameIndex) ||
        nameIndex < 0 ||
        nameIndex >= names.length
      ) {
        throw malformed(
          `level ${level} tuple ${t} has name index ${String(nameIndex)}, outside 0..${names.length - 1}`,
          {
            level,
            offset: base + width - 1,
          },
        );
      }
      if (level === 0 || column === -1) {
        // The root carries no frame; an empty node carries no samples (nor do its children).
        stacks[t] = level === 0 ? -1 : -2;
        continue;
      }
      const px = prevX[column]!;
      const x = xs[column]![t]!;
      // Last node of the level above with x <= this x.
      let lo = 0;
      let hi = px.length - 1;
      if (hi < 0 || px[0]! > x) {
        throw malformed(`level ${level} tuple ${t} at x=${x} has no parent in level ${level - 1}`, {
          level,
          offset: base,
        });
      }
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (px[mid]! <= x) lo = mid;
        else hi = mid - 1;
      }
      const parentStack = prevStack[lo]!;
      if (parentStack === -2) {
        stacks[t] = -2;
        continue;
      }
      let frame = frameOfName.get(nameIndex);
      if (frame === undefined) {
        frame = b.frame(String(names[nameIndex]));
        frameOfName.set(nameIndex, frame);
      }
      const s = b.stack(parentStack, frame);
      stacks[t] = s;
      if (values.some((v) => v !== 0)) b.sample(s, values);
    }
    prevX = xs;
    prevStack = stacks;
  }
  return b.build();
}

/** A profile with the stacks and self values of a single flamebearer (`other` stays a frame). */
export function decodeFlamebearer(
  fb: Pick<Flamebearer, 'names' | 'levels'>,
  type: ProfileType = DEFAULT_DECODE_TYPE,
): Profile {
  return decodeLevels(fb, 4, [0], [type])[0]!;
}

/** The two sides of a diff flamebearer as profiles sharing one shape (missing nodes have 0). */
export function decodeFlamebearerDiff(
  fb: Pick<FlamebearerDiff, 'names' | 'levels'>,
  type: ProfileType = DEFAULT_DECODE_TYPE,
): { left: Profile; right: Profile } {
  const [left, right] = decodeLevels(fb, 7, [0, 3], [type, type]) as [Profile, Profile];
  return { left, right };
}
