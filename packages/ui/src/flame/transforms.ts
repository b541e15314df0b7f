// Pure transforms over FlameTrees: (tree, args) → new tree or table; inputs are never mutated.
import { TreeBuilder, nodeName, type FlameTree, type NodeIndex } from './tree.ts';

/** Copies a tree through a builder, mapping each node to a builder node (root → root). */
function rebuild(
  tree: FlameTree,
  mapNode: (i: NodeIndex, parentId: number, b: TreeBuilder) => number,
): FlameTree {
  const b = new TreeBuilder(tree.diff !== null);
  const mapped = new Int32Array(tree.length);
  for (let i = 1; i < tree.length; i++) {
    const id = mapNode(i, mapped[tree.parent[i]!]!, b);
    mapped[i] = id;
    addOwnSelf(tree, i, b, id);
  }
  return b.build();
}

function addOwnSelf(tree: FlameTree, i: NodeIndex, b: TreeBuilder, id: number): void {
  if (tree.diff) b.addSelf(id, tree.diff.selfLeft[i]!, tree.diff.selfRight[i]!);
  else b.addSelf(id, tree.self[i]!);
}

/** Collapses direct recursion: a frame calling a frame of the same name becomes one frame (a;a;a;b → a;b). */
export function collapseRecursion(tree: FlameTree): FlameTree {
  return rebuild(tree, (i, parentId, b) => {
    const p = tree.parent[i]!;
    if (p > 0 && tree.name[p] === tree.name[i]) return parentId;
    return b.child(parentId, nodeName(tree, i));
  });
}

/** Per node: 1 when a strict ancestor satisfies `matches`. Level order puts parents first. */
function sameNameAbove(tree: FlameTree, matches: (i: NodeIndex) => boolean): Uint8Array {
  const covered = new Uint8Array(tree.length);
  for (let i = 1; i < tree.length; i++) {
    const p = tree.parent[i]!;
    covered[i] = p > 0 && (covered[p] === 1 || matches(p)) ? 1 : 0;
  }
  return covered;
}

export interface Sandwich {
  /** Rooted at the function; children are its callers (draw root at the bottom). */
  readonly callers: FlameTree;
  /** Rooted at the function; children are its callees. */
  readonly callees: FlameTree;
}

/** Callers and callees of every occurrence of `fn` (outermost occurrences, so recursion is not counted twice). */
export function sandwich(tree: FlameTree, fn: string): Sandwich {
  const isDiff = tree.diff !== null;
  const callers = new TreeBuilder(isDiff, fn);
  const callees = new TreeBuilder(isDiff, fn);
  const nameIdx = tree.names.indexOf(fn);
  const covered = sameNameAbove(tree, (i) => tree.name[i] === nameIdx);
  const mapped = new Int32Array(tree.length).fill(-1);
  for (let i = 1; i < tree.length; i++) {
    const p = tree.parent[i]!;
    if (mapped[p]! >= 0) mapped[i] = callees.child(mapped[p]!, nodeName(tree, i));
    else if (tree.name[i] === nameIdx && covered[i] === 0) {
      mapped[i] = 0;
      let c = 0;
      for (let a = p; a > 0; a = tree.parent[a]!) c = callers.child(c, nodeName(tree, a));
      if (tree.diff) callers.addSelf(c, tree.diff.totalLeft[i]!, tree.diff.totalRight[i]!);
      else callers.addSelf(c, tree.total[i]!);
    }
    if (mapped[i]! >= 0) addOwnSelf(tree, i, callees, mapped[i]!);
  }
  return { callers: callers.build(), callees: callees.build() };
}

export interface TopRow {
  readonly name: string;
  /** Ticks spent in the function itself. */
  readonly self: number;
  /** Ticks spent in the function and its callees, counting recursion once. */
  readonly total: number;
  readonly selfLeft: number;
  readonly totalLeft: number;
  readonly selfRight: number;
  readonly totalRight: number;
}

/** One row per function name (the root excluded); unsorted. */
export function topTable(tree: FlameTree): TopRow[] {
  const rows = tree.names.map((name) => ({
    name,
    self: 0,
    total: 0,
    selfLeft: 0,
    totalLeft: 0,
    selfRight: 0,
    totalRight: 0,
  }));
  const seen = new Uint8Array(tree.names.length);
  const covered = coveredBySameName(tree);
  for (let i = 1; i < tree.length; i++) {
    const r = rows[tree.name[i]!]!;
    seen[tree.name[i]!] = 1;
    r.self += tree.self[i]!;
    if (!covered[i]) r.total += tree.total[i]!;
    if (tree.diff) {
      r.selfLeft += tree.diff.selfLeft[i]!;
      r.selfRight += tree.diff.selfRight[i]!;
      if (!covered[i]) {
        r.totalLeft += tree.diff.totalLeft[i]!;
        r.totalRight += tree.diff.totalRight[i]!;
      }
    }
  }
  return rows.filter((_, k) => seen[k] === 1);
}

/**
 * Per node: 1 when a strict ancestor has the same name (so its total is already counted).
 * Iterative DFS keeping a count of each name on the current path.
 */
function coveredBySameName(tree: FlameTree): Uint8Array {
  const onPath = new Int32Array(tree.names.length);
  const covered = new Uint8Array(tree.length);
  const stack: number[] = [0];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v < 0) {
      onPath[tree.name[~v]!]!--;
      continue;
    }
    if (v > 0) {
      covered[v] = onPath[tree.name[v]!]! > 0 ? 1 : 0;
      onPath[tree.name[v]!]!++;
      stack.push(~v);
    }
    const first = tree.firstChild[v]!;
    for (let c = first + tree.childCount[v]! - 1; c >= first && first >= 0; c--) stack.push(c);
  }
  return covered;
}

export type SortKey = 'name' | 'self' | 'total' | 'selfLeft' | 'selfRight' | 'diff';

/** Sorted copy; `diff` sorts by the change in total share between the sides. */
export function sortTopTable(
  rows: readonly TopRow[],
  key: SortKey,
  descending: boolean,
  tree?: FlameTree,
): TopRow[] {
  const lt = tree?.diff?.leftTicks || 1;
  const rt = tree?.diff?.rightTicks || 1;
  const val = (r: TopRow): number | string => {
    switch (key) {
      case 'name':
        return r.name;
      case 'self':
        return r.self;
      case 'total':
        return r.total;
      case 'selfLeft':
        return r.selfLeft;
      case 'selfRight':
        return r.selfRight;
      case 'diff':
        return r.totalRight / rt - r.totalLeft / lt;
    }
  };
  const out = rows.slice();
  out.sort((a, b) => {
    const va = val(a);
    const vb = val(b);
    const c = va < vb ? -1 : va > vb ? 1 : 0;
    return descending ? -c : c;
  });
  return out;
}

export interface SearchResult {
  /** 1 for nodes whose name matches. */
  readonly matched: Uint8Array;
  readonly matchCount: number;
  /** Ticks under matching nodes, each stack counted once. */
  readonly matchedTicks: number;
  /** matchedTicks / numTicks, 0..1. */
  readonly share: number;
}

/** Case-insensitive substring search; `/re/` searches by regular expression. */
export function searchTree(tree: FlameTree, query: string): SearchResult {
  const matched = new Uint8Array(tree.length);
  const test = matcher(query);
  if (!test) return { matched, matchCount: 0, matchedTicks: 0, share: 0 };
  const nameHit = tree.names.map((n) => test(n));
  let count = 0;
  let ticks = 0;
  const inside = new Uint8Array(tree.length);
  for (let i = 1; i < tree.length; i++) {
    const p = tree.parent[i]!;
    if (nameHit[tree.name[i]!]) {
      matched[i] = 1;
      count++;
      if (!inside[p]) ticks += tree.total[i]!;
      inside[i] = 1;
    } else inside[i] = inside[p]!;
  }
  return {
    matched,
    matchCount: count,
    matchedTicks: ticks,
    share: tree.numTicks > 0 ? ticks / tree.numTicks : 0,
  };
}

function matcher(query: string): ((s: string) => boolean) | null {
  const q = query.trim();
  if (q === '') return null;
  if (q.length > 2 && q.startsWith('/') && q.endsWith('/')) {
    try {
      const re = new RegExp(q.slice(1, -1), 'i');
      return (s) => re.test(s);
    } catch {
      return null;
    }
  }
  const lower = q.toLowerCase();
  return (s) => s.toLowerCase().includes(lower);
}

/** A diff tree of two single trees (left = baseline, right = comparison), as /render-diff would give. */
export function diffTrees(left: FlameTree, right: FlameTree): FlameTree {
  const b = new TreeBuilder(true);
  for (const [tree, side] of [
    [left, 0],
    [right, 1],
  ] as const) {
    const mapped = new Int32Array(tree.length);
    for (let i = 1; i < tree.length; i++) {
      mapped[i] = b.child(mapped[tree.parent[i]!]!, nodeName(tree, i));
      if (side === 0) b.addSelf(mapped[i]!, tree.self[i]!, 0);
      else b.addSelf(mapped[i]!, 0, tree.self[i]!);
    }
  }
  return b.build();
}

/** The subtree of one side of a diff tree as a single tree (used to draw each side on its own). */
export function diffSide(tree: FlameTree, side: 'left' | 'right'): FlameTree {
  const d = tree.diff;
  if (!d) return tree;
  const b = new TreeBuilder(false);
  const mapped = new Int32Array(tree.length);
  for (let i = 1; i < tree.length; i++) {
    mapped[i] = b.child(mapped[tree.parent[i]!]!, nodeName(tree, i));
    b.addSelf(mapped[i]!, side === 'left' ? d.selfLeft[i]! : d.selfRight[i]!);
  }
  return b.build();
}
