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

/** Colour per node, computed once per (tree, theme, mode) and reused across frames. */
export class NodeColors {
  private cache: string[] = [];
  private key = '';
  colors(tree: FlameTree, theme: Theme, mode: DiffMode): readonly string[] {
    const key = `${theme}|${mode}`;
    if (this.key === key && this.cache.length === tree.length) return this.cache;
    this.key = key;
    const out = new Array<string>(tree.length);
    const d = tree.diff;
    if (d) {
      let maxAbs = 0;
      if (mode === 'absolute') {
        for (let i = 0; i < tree.length; i++) {
          const delta = Math.abs(d.totalRight[i]! / (d.rightTicks || 1) - d.totalLeft[i]! / (d.leftTicks || 1));
          if (i > 0 && delta > maxAbs) maxAbs = delta;
        }
      }
      for (let i = 0; i < tree.length; i++) {
        const t = diffIntensity(d.totalLeft[i]!, d.totalRight[i]!, d.leftTicks, d.rightTicks, mode, maxAbs);
        out[i] = diffColor(t, theme);
      }
    } else {
      const byName = tree.names.map((n) => packageColor(n, theme));
      for (let i = 0; i < tree.length; i++) out[i] = byName[tree.name[i]!]!;
    }
    this.cache = out;
    return out;
  }
}

/** Paints `rects` on a canvas sized to the viewport width and the tree's height (device pixels). */
export function paintFlame(
  ctx: CanvasRenderingContext2D,
  tree: FlameTree,
  rects: FlameRects,
  vp: Viewport,
  colors: readonly string[],
  style: PaintStyle,
): void {
  const dpr = style.devicePixelRatio;
  const rowH = vp.cssPxRowHeight;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, vp.cssPxWidth, cssPxHeight(tree, vp));
  const dark = style.theme === 'dark';
  const dimColor = dark ? '#3a3d44' : '#e4e4e8';
  const matched = style.matched;
  for (let k = 0; k < rects.length; k++) {
    const i = rects.node[k]!;
    const w = rects.cssPxW[k]!;
    ctx.fillStyle = matched && matched[i] !== 1 && i !== 0 ? dimColor : colors[i]!;
    ctx.fillRect(rects.cssPxX[k]!, rects.cssPxY[k]!, w > 2 ? w - 0.5 : w, rowH - 1);
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
