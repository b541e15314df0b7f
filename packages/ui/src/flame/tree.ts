// FlameTree: the one tree the UI draws, decoded from flamebearer levels (single or diff) or built
// from stacks (uploads, transforms). Struct-of-arrays in level order, so a row is a contiguous,
// x-sorted slice and the children of a node are a contiguous slice of the next row.

/** Index into a FlameTree's node arrays; node 0 is the root ("total"). */
export type NodeIndex = number;

/** Flamebearer JSON as served by /pyroscope/render (see pyroscope-compat §3.2). */
export interface Flamebearer {
  readonly names: readonly string[];
  /** Single: 4-tuples [xDelta, total, self, nameIndex]; diff: 7-tuples [xL, totalL, selfL, xR, totalR, selfR, nameIndex]. */
  readonly levels: readonly (readonly number[])[];
  readonly numTicks: number;
  readonly maxSelf: number;
}

/** Per-side values of a diff tree: left = baseline, right = comparison. */
export interface DiffColumns {
  readonly totalLeft: Float64Array;
  readonly selfLeft: Float64Array;
  readonly totalRight: Float64Array;
  readonly selfRight: Float64Array;
  readonly leftTicks: number;
  readonly rightTicks: number;
}

export interface FlameTree {
  readonly names: readonly string[];
  readonly length: number;
  readonly name: Int32Array;
  readonly depth: Int32Array;
  /** -1 for the root. */
  readonly parent: Int32Array;
  /** Left edge in ticks (for a diff tree: left plus right side ticks). */
  readonly xTicks: Float64Array;
  /** Width in ticks: the node's total (diff: totalLeft + totalRight). */
  readonly total: Float64Array;
  readonly self: Float64Array;
  /** Children of node i are nodes firstChild[i] .. firstChild[i] + childCount[i] - 1. */
  readonly firstChild: Int32Array;
  readonly childCount: Int32Array;
  /** Row d holds nodes levelStart[d] .. levelStart[d + 1] - 1; length = rows + 1. */
  readonly levelStart: Int32Array;
  readonly numTicks: number;
  readonly maxSelf: number;
  readonly diff: DiffColumns | null;
}

export function rowCount(tree: FlameTree): number {
  return tree.levelStart.length - 1;
}

export function nodeName(tree: FlameTree, i: NodeIndex): string {
  return tree.names[tree.name[i]!] ?? '';
}

/** Names from the first frame below the root down to node i. */
export function nodePath(tree: FlameTree, i: NodeIndex): string[] {
  const out: string[] = [];
  for (let n = i; n > 0; n = tree.parent[n]!) out.push(nodeName(tree, n));
  return out.reverse();
}

/** The node reached by following names from the root, or -1. */
export function findNodeByPath(tree: FlameTree, path: readonly string[]): NodeIndex {
  let n = 0;
  for (const name of path) {
    let next = -1;
    const first = tree.firstChild[n]!;
    for (let c = first; c < first + tree.childCount[n]!; c++) {
      if (nodeName(tree, c) === name) {
        next = c;
        break;
      }
    }
    if (next < 0) return -1;
    n = next;
  }
  return n;
}

/** Fills parent/firstChild/childCount by a two-pointer sweep over adjacent rows (both x-sorted). */
function linkRows(
  levelStart: Int32Array,
  xTicks: Float64Array,
  total: Float64Array,
  parent: Int32Array,
  depth: Int32Array,
  firstChild: Int32Array,
  childCount: Int32Array,
): void {
  parent.fill(-1);
  firstChild.fill(-1);
  for (let d = 1; d < levelStart.length - 1; d++) {
    let p = levelStart[d - 1]!;
    const pEnd = levelStart[d]!;
    for (let i = levelStart[d]!; i < levelStart[d + 1]!; i++) {
      depth[i] = d;
      while (p < pEnd - 1 && xTicks[i]! >= xTicks[p]! + total[p]!) p++;
      parent[i] = p;
      if (firstChild[p] === -1) firstChild[p] = i;
      childCount[p]!++;
    }
  }
}

/** Decodes /render's flamebearer (format "single"). */
export function decodeFlamebearer(fb: Flamebearer): FlameTree {
  return decodeLevels(fb, false);
}

/** Decodes /render-diff's flamebearer (format "double"); leftTicks/rightTicks come from the envelope. */
export function decodeFlamebearerDiff(fb: Flamebearer, leftTicks: number, rightTicks: number): FlameTree {
  return decodeLevels(fb, true, leftTicks, rightTicks);
}

function decodeLevels(fb: Flamebearer, isDiff: boolean, leftTicks = 0, rightTicks = 0): FlameTree {
  const step = isDiff ? 7 : 4;
  let n = 0;
  const levels = fb.levels.filter((l) => l.length > 0);
  for (const l of levels) n += Math.floor(l.length / step);
  const levelStart = new Int32Array(levels.length + 1);
  const name = new Int32Array(n);
  const depth = new Int32Array(n);
  const parent = new Int32Array(n);
  const xTicks = new Float64Array(n);
  const total = new Float64Array(n);
  const self = new Float64Array(n);
  const firstChild = new Int32Array(n);
  const childCount = new Int32Array(n);
  const diff = isDiff
    ? {
        totalLeft: new Float64Array(n),
        selfLeft: new Float64Array(n),
        totalRight: new Float64Array(n),
        selfRight: new Float64Array(n),
        leftTicks,
        rightTicks,
      }
    : null;
  let i = 0;
  let maxSelf = 0;
  for (let d = 0; d < levels.length; d++) {
    levelStart[d] = i;
    const row = levels[d]!;
    let prevEndLeft = 0;
    let prevEndRight = 0;
    for (let k = 0; k + step <= row.length; k += step, i++) {
      if (diff) {
        const xl = row[k]! + prevEndLeft;
        const xr = row[k + 3]! + prevEndRight;
        prevEndLeft = xl + row[k + 1]!;
        prevEndRight = xr + row[k + 4]!;
        diff.totalLeft[i] = row[k + 1]!;
        diff.selfLeft[i] = row[k + 2]!;
        diff.totalRight[i] = row[k + 4]!;
        diff.selfRight[i] = row[k + 5]!;
        xTicks[i] = xl + xr;
        total[i] = row[k + 1]! + row[k + 4]!;
        self[i] = row[k + 2]! + row[k + 5]!;
        name[i] = row[k + 6]!;
      } else {
        const x = row[k]! + prevEndLeft;
        prevEndLeft = x + row[k + 1]!;
        xTicks[i] = x;
        total[i] = row[k + 1]!;
        self[i] = row[k + 2]!;
        name[i] = row[k + 3]!;
      }
      if (self[i]! > maxSelf) maxSelf = self[i]!;
    }
  }
  levelStart[levels.length] = i;
  linkRows(levelStart, xTicks, total, parent, depth, firstChild, childCount);
  return {
    names: fb.names,
    length: n,
    name,
    depth,
    parent,
    xTicks,
    total,
    self,
    firstChild,
    childCount,
    levelStart,
    numTicks: n > 0 ? total[0]! : 0,
    maxSelf,
    diff,
  };
}

/**
 * The one mutable place trees are made: a trie of names with self values per side, built into a
 * FlameTree whose children are sorted by name with self first (the flamebearer layout).
 */
export class TreeBuilder {
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly nodeName: number[] = [];
  private readonly nodeParent: number[] = [];
  private readonly selfLeft: number[] = [];
  private readonly selfRight: number[] = [];
  private readonly children: Map<number, number>[] = [];

  constructor(
    private readonly isDiff = false,
    rootName = 'total',
  ) {
    this.newNode(-1, this.intern(rootName));
  }

  private intern(name: string): number {
    let i = this.nameIndex.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.nameIndex.set(name, i);
    }
    return i;
  }

  private newNode(parentId: number, nameIdx: number): number {
    const id = this.nodeName.length;
    this.nodeName.push(nameIdx);
    this.nodeParent.push(parentId);
    this.selfLeft.push(0);
    this.selfRight.push(0);
    this.children.push(new Map());
    return id;
  }

  /** Nodes created so far, the root included. */
  get size(): number {
    return this.nodeName.length;
  }

  /** The child of builder node `parentId` named `name` (created when missing). Root is 0. */
  child(parentId: number, name: string): number {
    const nameIdx = this.intern(name);
    const map = this.children[parentId]!;
    let id = map.get(nameIdx);
    if (id === undefined) {
      id = this.newNode(parentId, nameIdx);
      map.set(nameIdx, id);
    }
    return id;
  }

  addSelf(id: number, left: number, right = 0): void {
    this.selfLeft[id]! += left;
    this.selfRight[id]! += right;
  }

  /** Adds a root-first stack of names with its value(s). */
  add(path: readonly string[], left: number, right = 0): void {
    let id = 0;
    for (const name of path) id = this.child(id, name);
    this.addSelf(id, left, right);
  }

  build(): FlameTree {
    const count = this.nodeName.length;
    // Totals bottom-up: a child's id is always greater than its parent's.
    const totL = Float64Array.from(this.selfLeft);
    const totR = Float64Array.from(this.selfRight);
    for (let id = count - 1; id > 0; id--) {
      const p = this.nodeParent[id]!;
      totL[p]! += totL[id]!;
      totR[p]! += totR[id]!;
    }
    // Level order; drop empty nodes; children sorted by name.
    const order: number[] = [];
    const levelStartList: number[] = [];
    const xOf = new Float64Array(count);
    const xLeftOf = new Float64Array(count);
    const xRightOf = new Float64Array(count);
    let row = [0];
    while (row.length > 0) {
      levelStartList.push(order.length);
      const next: number[] = [];
      for (const id of row) {
        order.push(id);
        const kids = [...this.children[id]!.values()]
          .filter((c) => totL[c]! + totR[c]! > 0)
          .sort((a, b) => cmp(this.names[this.nodeName[a]!]!, this.names[this.nodeName[b]!]!));
        let xl = xLeftOf[id]! + this.selfLeft[id]!;
        let xr = xRightOf[id]! + this.selfRight[id]!;
        for (const c of kids) {
          xLeftOf[c] = xl;
          xRightOf[c] = xr;
          xOf[c] = xl + xr;
          xl += totL[c]!;
          xr += totR[c]!;
          next.push(c);
        }
      }
      row = next;
    }
    levelStartList.push(order.length);
    const n = order.length;
    const tree = {
      names: this.names.slice(),
      length: n,
      name: new Int32Array(n),
      depth: new Int32Array(n),
      parent: new Int32Array(n),
      xTicks: new Float64Array(n),
      total: new Float64Array(n),
      self: new Float64Array(n),
      firstChild: new Int32Array(n),
      childCount: new Int32Array(n),
      levelStart: Int32Array.from(levelStartList),
      numTicks: totL[0]! + totR[0]!,
      maxSelf: 0,
      diff: this.isDiff
        ? {
            totalLeft: new Float64Array(n),
            selfLeft: new Float64Array(n),
            totalRight: new Float64Array(n),
            selfRight: new Float64Array(n),
            leftTicks: totL[0]!,
            rightTicks: totR[0]!,
          }
        : null,
    };
    let maxSelf = 0;
    for (let i = 0; i < n; i++) {
      const id = order[i]!;
      tree.name[i] = this.nodeName[id]!;
      tree.xTicks[i] = xOf[id]!;
      tree.total[i] = totL[id]! + totR[id]!;
      tree.self[i] = this.selfLeft[id]! + this.selfRight[id]!;
      if (tree.diff) {
        tree.diff.totalLeft[i] = totL[id]!;
        tree.diff.selfLeft[i] = this.selfLeft[id]!;
        tree.diff.totalRight[i] = totR[id]!;
        tree.diff.selfRight[i] = this.selfRight[id]!;
        maxSelf = Math.max(maxSelf, this.selfLeft[id]!, this.selfRight[id]!);
      } else maxSelf = Math.max(maxSelf, tree.self[i]!);
    }
    tree.maxSelf = maxSelf;
    linkRows(
      tree.levelStart,
      tree.xTicks,
      tree.total,
      tree.parent,
      tree.depth,
      tree.firstChild,
      tree.childCount,
    );
    return tree;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds a tree from folded text (`a;b;c 100` per line). Lines that do not parse are skipped. */
export function treeFromFolded(text: string): FlameTree {
  const b = new TreeBuilder();
  for (const line of text.split('\n')) {
    const t = line.trim();
    const sp = t.lastIndexOf(' ');
    if (sp <= 0) continue;
    const value = Number(t.slice(sp + 1));
    if (!Number.isFinite(value) || value <= 0) continue;
    b.add(t.slice(0, sp).split(';'), value);
  }
  return b.build();
}

/** Stacks of a tree as folded lines (root excluded), in level order: the inverse of treeFromFolded. */
export function treeToFolded(tree: FlameTree, side: 'both' | 'left' | 'right' = 'both'): string {
  const lines: string[] = [];
  for (let i = 1; i < tree.length; i++) {
    const v = selfOn(tree, i, side);
    if (v > 0) lines.push(`${nodePath(tree, i).join(';')} ${v}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

function selfOn(tree: FlameTree, i: NodeIndex, side: 'both' | 'left' | 'right'): number {
  if (!tree.diff || side === 'both') return tree.self[i]!;
  return side === 'left' ? tree.diff.selfLeft[i]! : tree.diff.selfRight[i]!;
}

/** Flamebearer levels (single format) of a tree: the inverse of decodeFlamebearer. */
export function encodeFlamebearer(tree: FlameTree): Flamebearer {
  const levels: number[][] = [];
  for (let d = 0; d < rowCount(tree); d++) {
    const row: number[] = [];
    let prevEnd = 0;
    for (let i = tree.levelStart[d]!; i < tree.levelStart[d + 1]!; i++) {
      row.push(tree.xTicks[i]! - prevEnd, tree.total[i]!, tree.self[i]!, tree.name[i]!);
      prevEnd = tree.xTicks[i]! + tree.total[i]!;
    }
    levels.push(row);
  }
  return { names: tree.names, levels, numTicks: tree.numTicks, maxSelf: tree.maxSelf };
}
