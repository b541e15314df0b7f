// Canvas painting of laid-out flame graph rectangles. The only module here that touches a canvas.
import type { FlameRects, Viewport } from './layout.ts';
import { cssPxHeight } from './layout.ts';
import { diffColor, diffIntensity, packageColor, type DiffMode, type Theme } from './colors.ts';
import { nodeName, type FlameTree, type NodeIndex } from './tree.ts';

export interface PaintStyle {
  readonly theme: Theme;
  /** Diff trees only. */
  readonly diffMode: DiffMode;
  /** Search matches (1 = match); when set, other nodes are dimmed. */
  readonly matched: Uint8Array | null;
  /** Node outlined as keyboard selection, or -1. */
  readonly selected: NodeIndex;
  /** Node under the mouse, or -1. */
  readonly hovered: NodeIndex;
  readonly devicePixelRatio: number;
}

const FONT_CSS_PX = 12;
const MIN_TEXT_CSS_PX = 22;

/** Colours as a small palette plus a palette index per node, so painting can batch by colour. */
export interface NodePalette {
  readonly colors: readonly string[];
  /** Index into `colors` per node. */
  readonly ids: Uint16Array;
}

/** Node palette, computed once per (tree, theme, mode) and reused across frames. */
export class NodeColors {
  private cache: NodePalette = { colors: [], ids: new Uint16Array(0) };
  private key = '';
  private tree: FlameTree | null = null;
  palette(tree: FlameTree, theme: Theme, mode: DiffMode): NodePalette {
    const key = `${theme}|${mode}`;
    if (this.key === key && this.tree === tree) return this.cache;
    const colors: string[] = [];
    const idOf = new Map<string, number>();
    const intern = (c: string): number => {
      let id = idOf.get(c);
      if (id === undefined) {
        id = colors.length;
        colors.push(c);
        idOf.set(c, id);
      }
      return id;
    };
    const ids = new Uint16Array(tree.length);
    const d = tree.diff;
    if (d) {
      let maxAbs = 0;
      if (mode === 'absolute') {
        for (let i = 1; i < tree.length; i++) {
          const delta = Math.abs(
            d.totalRight[i]! / (d.rightTicks || 1) - d.totalLeft[i]! / (d.leftTicks || 1),
          );
          if (delta > maxAbs) maxAbs = delta;
        }
      }
      for (let i = 0; i < tree.length; i++) {
        ids[i] = intern(
          diffColor(
            diffIntensity(d.totalLeft[i]!, d.totalRight[i]!, d.leftTicks, d.rightTicks, mode, maxAbs),
            theme,
          ),
        );
      }
    } else {
      const byName = tree.names.map((n) => intern(packageColor(n, theme)));
      for (let i = 0; i < tree.length; i++) ids[i] = byName[tree.name[i]!]!;
    }
    this.key = key;
    this.tree = tree;
    this.cache = { colors, ids };
    return this.cache;
  }
}

/** Paints `rects` on a canvas sized to the viewport width and the tree's height (device pixels). */
export function paintFlame(
  ctx: CanvasRenderingContext2D,
  tree: FlameTree,
  rects: FlameRects,
  vp: Viewport,
  palette: NodePalette,
  style: PaintStyle,
): void {
  const dpr = style.devicePixelRatio;
  const rowH = vp.cssPxRowHeight;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, vp.cssPxWidth, cssPxHeight(tree, vp));
  const dark = style.theme === 'dark';
  const matched = style.matched;
  // Batch by colour: one path and one fill per colour (a counting sort of the rects by palette id).
  const dimId = palette.colors.length;
  const colorIds = new Uint16Array(rects.length);
  const starts = new Int32Array(dimId + 2);
  for (let k = 0; k < rects.length; k++) {
    const i = rects.node[k]!;
    const id = matched && matched[i] !== 1 && i !== 0 ? dimId : palette.ids[i]!;
    colorIds[k] = id;
    starts[id + 1]!++;
  }
  for (let c = 1; c < starts.length; c++) starts[c]! += starts[c - 1]!;
  const order = new Int32Array(rects.length);
  const fillPos = starts.slice(0, dimId + 1);
  for (let k = 0; k < rects.length; k++) order[fillPos[colorIds[k]!]!++] = k;
  for (let c = 0; c <= dimId; c++) {
    if (starts[c] === starts[c + 1]) continue;
    ctx.fillStyle = c === dimId ? (dark ? '#3a3d44' : '#e4e4e8') : palette.colors[c]!;
    ctx.beginPath();
    for (let o = starts[c]!; o < starts[c + 1]!; o++) {
      const k = order[o]!;
      const w = rects.cssPxW[k]!;
      ctx.rect(rects.cssPxX[k]!, rects.cssPxY[k]!, w > 2 ? w - 0.5 : w, rowH - 1);
    }
    ctx.fill();
  }
  ctx.font = `${FONT_CSS_PX}px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace`;
  ctx.textBaseline = 'middle';
  const charW = ctx.measureText('M').width || 7;
  ctx.fillStyle = dark ? '#f2f2f2' : '#111';
  for (let k = 0; k < rects.length; k++) {
    const w = rects.cssPxW[k]!;
    if (w < MIN_TEXT_CSS_PX) continue;
    const i = rects.node[k]!;
    const x = Math.max(rects.cssPxX[k]!, 0);
    const visibleW = Math.min(rects.cssPxX[k]! + w, vp.cssPxWidth) - x;
    const fit = Math.floor((visibleW - 6) / charW);
    if (fit < 2) continue;
    const name = nodeName(tree, i);
    const text = name.length <= fit ? name : name.slice(0, fit - 1) + '…';
    ctx.fillText(text, x + 3, rects.cssPxY[k]! + rowH / 2);
  }
  for (const [node, color] of [
    [style.hovered, dark ? '#fff' : '#000'],
    [style.selected, '#2f6fed'],
  ] as const) {
    if (node < 0) continue;
    for (let k = 0; k < rects.length; k++) {
      if (rects.node[k] !== node) continue;
      ctx.strokeStyle = color;
      ctx.lineWidth = node === style.selected ? 2 : 1;
      ctx.strokeRect(rects.cssPxX[k]! + 0.5, rects.cssPxY[k]! + 0.5, rects.cssPxW[k]! - 1, rowH - 2);
    }
  }
}
