// Test helpers that turn trees into text pictures, so layout tests read as "picture in, picture out".
import { layoutFlame, type Viewport } from './layout.ts';
import { nodeName, rowCount, type FlameTree } from './tree.ts';

/**
 * Draws the layout of `tree` as text, one line per row, one character per CSS pixel: a node is
 * `[name]` truncated or padded to its width, a one-pixel node is `|`, empty space is `.`.
 */
export function drawLayout(tree: FlameTree, vp: Partial<Viewport> & { cssPxWidth: number }): string {
  const full: Viewport = {
    startTicks: 0,
    endTicks: tree.numTicks,
    cssPxRowHeight: 1,
    inverted: false,
    ...vp,
  };
  const rows = rowCount(tree);
  const grid = Array.from({ length: rows }, () => Array<string>(full.cssPxWidth).fill('.'));
  const rects = layoutFlame(tree, full, 1);
  for (let k = 0; k < rects.length; k++) {
    const x0 = Math.max(0, Math.round(rects.cssPxX[k]!));
    const x1 = Math.min(full.cssPxWidth, Math.round(rects.cssPxX[k]! + rects.cssPxW[k]!));
    const w = x1 - x0;
    if (w <= 0) continue;
    const label =
      w === 1
        ? '|'
        : `[${nodeName(tree, rects.node[k]!)
            .slice(0, w - 2)
            .padEnd(w - 2, ' ')}]`;
    const row = grid[Math.round(rects.cssPxY[k]!)]!;
    for (let c = 0; c < w; c++) row[x0 + c] = label[c]!;
  }
  return grid.map((r) => r.join('')).join('\n');
}

/** Prints a tree as indented lines `name total/self` (diff: `name L total/self R total/self`). */
export function printTree(tree: FlameTree): string {
  const lines: string[] = [];
  const visit = (i: number, indent: string): void => {
    const d = tree.diff;
    const values = d
      ? `L ${d.totalLeft[i]}/${d.selfLeft[i]} R ${d.totalRight[i]}/${d.selfRight[i]}`
      : `${tree.total[i]}/${tree.self[i]}`;
    lines.push(`${indent}${nodeName(tree, i)} ${values}`);
    const first = tree.firstChild[i]!;
    for (let c = first; c >= 0 && c < first + tree.childCount[i]!; c++) visit(c, indent + '  ');
  };
  if (tree.length > 0) visit(0, '');
  return lines.join('\n');
}

/** Trims the common indentation of a template literal picture. */
export function pic(s: string): string {
  const lines = s
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export { rowCount };
