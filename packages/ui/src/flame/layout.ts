// Flame graph layout: (tree, viewport) → rectangles in CSS pixels. Pure; painting is in paint.ts.
// x is measured in ticks (sample value units) and mapped linearly onto the canvas width; a row is
// one depth level. Rows are x-sorted, so each row is clipped by binary search.
import type { FlameTree, NodeIndex } from './tree.ts';
import { rowCount } from './tree.ts';

export interface Viewport {
  /** The x window in ticks: [startTicks, endTicks). */
  readonly startTicks: number;
  readonly endTicks: number;
  readonly cssPxWidth: number;
  readonly cssPxRowHeight: number;
  /** false: icicle (root at the top); true: flame (root at the bottom). */
  readonly inverted: boolean;
}

/** Rectangles of visible nodes; rect k is node[k] at (cssPxX[k], cssPxY[k]) with width cssPxW[k]. */
export interface FlameRects {
  length: number;
  node: Int32Array;
  cssPxX: Float32Array;
  cssPxY: Float32Array;
  cssPxW: Float32Array;
}

export function emptyRects(capacity = 1024): FlameRects {
  return {
    length: 0,
    node: new Int32Array(capacity),
    cssPxX: new Float32Array(capacity),
    cssPxY: new Float32Array(capacity),
    cssPxW: new Float32Array(capacity),
  };
}

function grow(r: FlameRects): void {
  const cap = r.node.length * 2;
  const node = new Int32Array(cap);
  node.set(r.node);
  const x = new Float32Array(cap);
  x.set(r.cssPxX);
  const y = new Float32Array(cap);
  y.set(r.cssPxY);
  const w = new Float32Array(cap);
  w.set(r.cssPxW);
  r.node = node;
  r.cssPxX = x;
  r.cssPxY = y;
  r.cssPxW = w;
}

export function cssPxHeight(tree: FlameTree, vp: Pick<Viewport, 'cssPxRowHeight'>): number {
  return rowCount(tree) * vp.cssPxRowHeight;
}

function rowY(tree: FlameTree, vp: Viewport, depth: number): number {
  const row = vp.inverted ? rowCount(tree) - 1 - depth : depth;
  return row * vp.cssPxRowHeight;
}

/** First node of row d whose right edge is after `ticks` (or the row's end). */
function firstVisible(tree: FlameTree, d: number, ticks: number): NodeIndex {
  let lo = tree.levelStart[d]!;
  let hi = tree.levelStart[d + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tree.xTicks[mid]! + tree.total[mid]! <= ticks) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Rectangles of the nodes that intersect the viewport and are at least `minCssPxWidth` wide.
 * Rectangles are clipped to [-1, width + 1] so huge zoom factors stay in float range.
 * `out` is reused (and grown) to avoid allocation per frame.
 */
export function layoutFlame(
  tree: FlameTree,
  vp: Viewport,
  minCssPxWidth = 0.5,
  out = emptyRects(),
): FlameRects {
  out.length = 0;
  const span = vp.endTicks - vp.startTicks;
  if (span <= 0 || tree.length === 0) return out;
  const scale = vp.cssPxWidth / span;
  const rows = rowCount(tree);
  for (let d = 0; d < rows; d++) {
    const y = rowY(tree, vp, d);
    const end = tree.levelStart[d + 1]!;
    for (let i = firstVisible(tree, d, vp.startTicks); i < end; i++) {
      const x = tree.xTicks[i]!;
      if (x >= vp.endTicks) break;
      const w = tree.total[i]! * scale;
      if (w < minCssPxWidth) continue;
      let cssX = (x - vp.startTicks) * scale;
      let cssRight = cssX + w;
      if (cssX < -1) cssX = -1;
      if (cssRight > vp.cssPxWidth + 1) cssRight = vp.cssPxWidth + 1;
      if (out.length === out.node.length) grow(out);
      const k = out.length++;
      out.node[k] = i;
      out.cssPxX[k] = cssX;
      out.cssPxY[k] = y;
      out.cssPxW[k] = cssRight - cssX;
    }
  }
  return out;
}

/** The node under a CSS pixel of the canvas, or -1. */
export function hitTest(tree: FlameTree, vp: Viewport, cssPxX: number, cssPxY: number): NodeIndex {
  const rows = rowCount(tree);
  const row = Math.floor(cssPxY / vp.cssPxRowHeight);
  if (row < 0 || row >= rows || cssPxX < 0 || cssPxX > vp.cssPxWidth) return -1;
  const d = vp.inverted ? rows - 1 - row : row;
  const ticks = vp.startTicks + (cssPxX / vp.cssPxWidth) * (vp.endTicks - vp.startTicks);
  const i = firstVisible(tree, d, ticks);
  if (i >= tree.levelStart[d + 1]! || tree.xTicks[i]! > ticks) return -1;
  return i;
}

/** The x window showing exactly one node (focus/zoom). */
export function windowOfNode(tree: FlameTree, i: NodeIndex): { startTicks: number; endTicks: number } {
  if (i < 0 || i >= tree.length) return { startTicks: 0, endTicks: tree.numTicks };
  return { startTicks: tree.xTicks[i]!, endTicks: tree.xTicks[i]! + tree.total[i]! };
}

/** Zooms by `factor` (< 1 zooms in) keeping the tick under cssPxX fixed; clamped to the tree. */
export function zoomAround(
  vp: Viewport,
  numTicks: number,
  cssPxX: number,
  factor: number,
): { startTicks: number; endTicks: number } {
  const span = vp.endTicks - vp.startTicks;
  const anchor = vp.startTicks + (cssPxX / vp.cssPxWidth) * span;
  const minSpan = Math.max(numTicks * 1e-9, 1e-9);
  const newSpan = Math.min(numTicks, Math.max(minSpan, span * factor));
  const start = anchor - (cssPxX / vp.cssPxWidth) * newSpan;
  return clampWindow(start, newSpan, numTicks);
}

/** Pans by a CSS pixel distance (positive moves the content right, i.e. shows earlier ticks). */
export function panBy(
  vp: Viewport,
  numTicks: number,
  cssPxDx: number,
): { startTicks: number; endTicks: number } {
  const span = vp.endTicks - vp.startTicks;
  return clampWindow(vp.startTicks - (cssPxDx / vp.cssPxWidth) * span, span, numTicks);
}

function clampWindow(
  start: number,
  span: number,
  numTicks: number,
): { startTicks: number; endTicks: number } {
  const s = Math.min(Math.max(0, start), Math.max(0, numTicks - span));
  return { startTicks: s, endTicks: s + span };
}
