// Call trees for views: nodes merged by frame name, children sorted by name, root "total".
// Struct-of-arrays, nodes numbered in pre-order (a node's subtree is a contiguous index range).

import { ProfileBuilder } from '../builder.ts';
import type { Profile, ProfileType } from '../model.ts';
import { OTHER_NAME, TOTAL_NAME } from './flamebearer.ts';
import { buildNameTree, compareNames, kthLargest } from './name-tree.ts';

/** Index into a CallTree; 0 is the root. */
export type CallNodeIndex = number;

export interface CallTree {
  readonly length: number;
  /** Frame name per node; the root is "total", merged small children are "other". */
  readonly name: readonly string[];
  /** Parent node; -1 for the root. parent[i] < i. */
  readonly parent: Int32Array;
  /** 0 for the root. */
  readonly depth: Int32Array;
  /** Value of samples ending at the node, in the profile's sample unit. */
  readonly self: Float64Array;
  /** self plus the totals of the children. */
  readonly total: Float64Array;
  /** Children of node i are childList[childStart[i] .. childStart[i + 1]), in display order. */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
}

/** Children of a node, in display order (a view into the tree; do not write to it). */
export function getChildren(tree: CallTree, node: CallNodeIndex): Int32Array {
  return tree.childList.subarray(tree.childStart[node]!, tree.childStart[node + 1]!);
}

/** Appends nodes in pre-order; finish() derives depth and the child lists. */
class CallTreeWriter {
  readonly name: string[] = [];
  private parent: number[] = [];
  private self: number[] = [];
  private total: number[] = [];

  add(name: string, parent: number, self: number, total: number): number {
    this.name.push(name);
    this.parent.push(parent);
    this.self.push(self);
    this.total.push(total);
    return this.name.length - 1;
  }

  finish(): CallTree {
    const length = this.name.length;
    const parent = Int32Array.from(this.parent);
    const depth = new Int32Array(length);
    const childStart = new Int32Array(length + 1);
    for (let i = 1; i < length; i++) {
      depth[i] = depth[parent[i]!]! + 1;
      childStart[parent[i]! + 1]!++;
    }
    for (let i = 0; i < length; i++) childStart[i + 1]! += childStart[i]!;
    const fill = childStart.slice(0, length);
    const childList = new Int32Array(Math.max(0, length - 1));
    // Pre-order: children are appended in index order, which is their display order.
    for (let i = 1; i < length; i++) childList[fill[parent[i]!]!++] = i;
    return {
      length,
      name: this.name,
      parent,
      depth,
      self: Float64Array.from(this.self),
      total: Float64Array.from(this.total),
      childStart,
      childList,
    };
  }
}

/** The full call tree of a profile (no truncation). compute*: costs O(stacks + nodes log fan-out). */
export function buildCallTree(profile: Profile): CallTree {
  const nt = buildNameTree([profile]);
  const names = nt.names;
  const nameId = nt.nameId;
  const self = nt.self[0]!;
  const total = nt.total[0]!;
  const w = new CallTreeWriter();
  // Explicit stack of [source node, output parent]; children pushed in reverse so they pop in order.
  const srcStack: number[] = [0];
  const outParent: number[] = [-1];
  const byName = (a: number, b: number) => compareNames(names[nameId[a]!]!, names[nameId[b]!]!);
  while (srcStack.length > 0) {
    const n = srcStack.pop()!;
    const p = outParent.pop()!;
    const out = w.add(n === 0 ? TOTAL_NAME : names[nameId[n]!]!, p, self[n]!, total[n]!);
    const children = Array.from(nt.childList.subarray(nt.childStart[n]!, nt.childStart[n + 1]!)).sort(byName);
    for (let k = children.length - 1; k >= 0; k--) {
      srcStack.push(children[k]!);
      outParent.push(out);
    }
  }
  return w.finish();
}

/**
 * Pyroscope's maxNodes rule on a call tree: threshold = the maxNodes-th largest node total (root
 * excluded; 0 if the tree has no more nodes than that); children whose total is below it, and
 * existing `other` children, are merged into one `other` child (self = total = their sum) placed
 * after the kept children. Pure.
 */
export function truncateTree(tree: CallTree, maxNodes: number): CallTree {
  let minVal = 0;
  if (maxNodes > 0 && tree.length - 1 > maxNodes)
    minVal = kthLargest(tree.total.subarray(1), Math.floor(maxNodes));
  const w = new CallTreeWriter();
  // Source node -1 stands for a synthetic `other` whose value is in otherValue.
  const srcStack: number[] = [0];
  const outParent: number[] = [-1];
  const otherValue: number[] = [0];
  while (srcStack.length > 0) {
    const n = srcStack.pop()!;
    const p = outParent.pop()!;
    const ov = otherValue.pop()!;
    if (n === -1) {
      w.add(OTHER_NAME, p, ov, ov);
      continue;
    }
    const out = w.add(tree.name[n]!, p, tree.self[n]!, tree.total[n]!);
    const kept: number[] = [];
    let dropped = 0;
    for (const c of getChildren(tree, n)) {
      if (tree.total[c]! >= minVal && tree.name[c] !== OTHER_NAME) kept.push(c);
      else dropped += tree.total[c]!;
    }
    if (dropped !== 0) {
      srcStack.push(-1);
      outParent.push(out);
      otherValue.push(dropped);
    }
    for (let k = kept.length - 1; k >= 0; k--) {
      srcStack.push(kept[k]!);
      outParent.push(out);
      otherValue.push(0);
    }
  }
  return w.finish();
}

/** A profile with one sample per node with self != 0 (`other` nodes become frames named other). */
export function callTreeToProfile(tree: CallTree, type: ProfileType): Profile {
  const b = new ProfileBuilder([type]);
  const stackOf = new Int32Array(tree.length).fill(-1);
  for (let i = 1; i < tree.length; i++) {
    const p = tree.parent[i]!;
    stackOf[i] = b.stack(p <= 0 ? -1 : stackOf[p]!, b.frame(tree.name[i]!));
    if (tree.self[i] !== 0) b.sample(stackOf[i]!, [tree.self[i]!]);
  }
  return b.build()[0]!;
}
