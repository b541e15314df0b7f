// The flame graph canvas: wires pointer/keyboard input to layout.ts and paint.ts. The x window
// (zoom/pan) is local; focus is owned by the parent (it lives in the URL).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { DiffMode, Theme } from './colors.ts';
import { diffIntensity } from './colors.ts';
import {
  cssPxHeight,
  emptyRects,
  hitTest,
  layoutFlame,
  panBy,
  windowOfNode,
  zoomAround,
  type Viewport,
} from './layout.ts';
import { NodeColors, paintFlame } from './paint.ts';
import { nodeName, rowCount, type FlameTree, type NodeIndex } from './tree.ts';
import { formatPercent, formatSignedPercent, formatValue, type Units } from '../format.ts';

export interface FlameGraphProps {
  readonly tree: FlameTree;
  readonly units: Units;
  readonly theme: Theme;
  readonly diffMode: DiffMode;
  readonly inverted: boolean;
  readonly matched: Uint8Array | null;
  /** Focused node (0 = root). */
  readonly focus: NodeIndex;
  readonly onFocus: (node: NodeIndex) => void;
  readonly onSandwich?: (name: string) => void;
  /** Offers "Track this function" (a recording rule, components/Rules.tsx) in the context menu. */
  readonly onTrack?: (name: string) => void;
  readonly label?: string;
}

const ROW_CSS_PX = 20;
/** Nodes narrower than this are not drawn (their ancestors show their time). */
const MIN_RECT_CSS_PX = 1;

interface Tip {
  readonly node: NodeIndex;
  readonly cssPxX: number;
  readonly cssPxY: number;
}

interface Menu extends Tip {}

export function FlameGraph(props: FlameGraphProps) {
  const { tree, focus, inverted } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [cssPxWidth, setCssPxWidth] = useState(800);
  const windowRef = useRef(windowOfNode(tree, focus));
  const rectsRef = useRef(emptyRects());
  const colorsRef = useRef(new NodeColors());
  const frameRef = useRef(0);
  const hoveredRef = useRef<NodeIndex>(-1);
  const [selected, setSelected] = useState<NodeIndex>(-1);
  const [tip, setTip] = useState<Tip | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const dragRef = useRef<{ startX: number; lastX: number; moved: boolean } | null>(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const viewport = useCallback(
    (): Viewport => ({
      ...windowRef.current,
      cssPxWidth,
      cssPxRowHeight: ROW_CSS_PX,
      inverted: propsRef.current.inverted,
    }),
    [cssPxWidth],
  );

  const draw = useCallback(() => {
    frameRef.current = 0;
    const canvas = canvasRef.current;
    if (!canvas) return;
    const p = propsRef.current;
    const t0 = performance.now();
    const vp = viewport();
    const dpr = window.devicePixelRatio || 1;
    const cssH = cssPxHeight(p.tree, vp);
    const devicePxW = Math.round(vp.cssPxWidth * dpr);
    const devicePxH = Math.round(cssH * dpr);
    if (canvas.width !== devicePxW || canvas.height !== devicePxH) {
      canvas.width = devicePxW;
      canvas.height = devicePxH;
      canvas.style.width = `${vp.cssPxWidth}px`;
      canvas.style.height = `${cssH}px`;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    rectsRef.current = layoutFlame(p.tree, vp, MIN_RECT_CSS_PX, rectsRef.current);
    paintFlame(ctx, p.tree, rectsRef.current, vp, colorsRef.current.palette(p.tree, p.theme, p.diffMode), {
      theme: p.theme,
      diffMode: p.diffMode,
      matched: p.matched,
      selected: selectedRef.current,
      hovered: hoveredRef.current,
      devicePixelRatio: dpr,
    });
    performance.measure('hotpath-paint', { start: t0, end: performance.now() });
    canvas.dataset['paints'] = String(Number(canvas.dataset['paints'] ?? '0') + 1);
  }, [viewport]);

  const schedule = useCallback(() => {
    if (frameRef.current === 0) frameRef.current = requestAnimationFrame(draw);
  }, [draw]);

  useLayoutEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setCssPxWidth(Math.max(100, Math.floor(el.clientWidth))));
    ro.observe(el);
    setCssPxWidth(Math.max(100, Math.floor(el.clientWidth)));
    return () => ro.disconnect();
  }, []);

  // A new tree or focus resets the x window to the focused node; a layout effect declared before the
  // paint below, so the first paint of a new tree already uses its window.
  useLayoutEffect(() => {
    windowRef.current = windowOfNode(tree, focus);
    setSelected(focus > 0 ? focus : -1);
    setMenu(null);
  }, [tree, focus]);

  // Paint synchronously when what is drawn changes (not on tooltip moves), so a test or a screenshot
  // sees the result at once; pointer-driven changes go through schedule() (one paint per frame).
  useLayoutEffect(() => {
    draw();
  }, [draw, tree, focus, inverted, props.matched, props.theme, props.diffMode, selected]);

  useEffect(() => () => cancelAnimationFrame(frameRef.current), []);

  const localXY = (e: { clientX: number; clientY: number }): [number, number] => {
    const r = canvasRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const onMouseMove = (e: React.MouseEvent) => {
    const [x, y] = localXY(e);
    const drag = dragRef.current;
    if (drag && (drag.moved || Math.abs(e.clientX - drag.startX) > 3)) {
      drag.moved = true;
      windowRef.current = panBy(viewport(), tree.numTicks, e.clientX - drag.lastX);
      drag.lastX = e.clientX;
      setTip(null);
      schedule();
      return;
    }
    const node = hitTest(tree, viewport(), x, y);
    if (node !== hoveredRef.current) {
      hoveredRef.current = node;
      schedule();
    }
    setTip(node >= 0 ? { node, cssPxX: x, cssPxY: y } : null);
  };

  const onMouseDown = (e: React.MouseEvent) => {
    if (e.button !== 0) return;
    dragRef.current = { startX: e.clientX, lastX: e.clientX, moved: false };
  };

  const onMouseUp = (e: React.MouseEvent) => {
    const drag = dragRef.current;
    dragRef.current = null;
    if (!drag || drag.moved || e.button !== 0) return;
    const [x, y] = localXY(e);
    const node = hitTest(tree, viewport(), x, y);
    setMenu(null);
    if (node >= 0) {
      setSelected(node);
      props.onFocus(node);
    }
  };

  const onWheel = (e: React.WheelEvent) => {
    const [x] = localXY(e);
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      windowRef.current = zoomAround(viewport(), tree.numTicks, x, Math.exp(e.deltaY * 0.002));
      schedule();
    } else if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      windowRef.current = panBy(viewport(), tree.numTicks, -e.deltaX);
      schedule();
    }
  };

  const onContextMenu = (e: React.MouseEvent) => {
    const [x, y] = localXY(e);
    const node = hitTest(tree, viewport(), x, y);
    if (node < 0) return;
    e.preventDefault();
    setTip(null);
    setSelected(node);
    setMenu({ node, cssPxX: x, cssPxY: y });
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const cur = selected >= 0 ? selected : focus;
    let next = -1;
    const up = inverted ? 'ArrowDown' : 'ArrowUp';
    const down = inverted ? 'ArrowUp' : 'ArrowDown';
    const d = tree.depth[cur]!;
    if (e.key === up) next = tree.parent[cur]!;
    else if (e.key === down) next = widestChild(tree, cur);
    else if (e.key === 'ArrowLeft' && cur > tree.levelStart[d]!) next = cur - 1;
    else if (e.key === 'ArrowRight' && cur + 1 < tree.levelStart[d + 1]!) next = cur + 1;
    else if (e.key === 'Enter' && cur >= 0) {
      props.onFocus(cur);
      e.preventDefault();
      return;
    } else if (e.key === 'Escape') {
      setMenu(null);
      props.onFocus(0);
      e.preventDefault();
      return;
    } else if (e.key === '+' || e.key === '=' || e.key === '-') {
      windowRef.current = zoomAround(viewport(), tree.numTicks, cssPxWidth / 2, e.key === '-' ? 1.25 : 0.8);
      schedule();
      return;
    } else return;
    e.preventDefault();
    if (next >= 0) setSelected(next);
  };

  const menuAction = (action: 'focus' | 'copy' | 'sandwich' | 'track' | 'reset') => {
    if (!menu) return;
    const name = nodeName(tree, menu.node);
    if (action === 'focus') props.onFocus(menu.node);
    if (action === 'reset') props.onFocus(0);
    if (action === 'copy') void navigator.clipboard?.writeText(name).catch(() => undefined);
    if (action === 'sandwich') props.onSandwich?.(name);
    if (action === 'track') props.onTrack?.(name);
    setMenu(null);
  };

  return (
    <div className="flame-wrap" ref={wrapRef} data-testid={props.label ? `flame-${props.label}` : 'flame'}>
      <canvas
        ref={canvasRef}
        className="flame-canvas"
        tabIndex={0}
        role="img"
        aria-label={`Flame graph, ${rowCount(tree)} levels. Arrow keys move, Enter focuses, Escape resets.`}
        data-rows={rowCount(tree)}
        data-focus={nodeName(tree, focus)}
        data-selected={selected >= 0 ? nodeName(tree, selected) : ''}
        onMouseMove={onMouseMove}
        onMouseDown={onMouseDown}
        onMouseUp={onMouseUp}
        onMouseLeave={() => {
          dragRef.current = null;
          hoveredRef.current = -1;
          setTip(null);
          schedule();
        }}
        onWheel={onWheel}
        onContextMenu={onContextMenu}
        onKeyDown={onKeyDown}
      />
      {tip && !menu && <Tooltip {...props} tip={tip} cssPxWidth={cssPxWidth} />}
      {menu && (
        <ul className="context-menu" style={{ left: menu.cssPxX, top: menu.cssPxY }} role="menu">
          <li role="menuitem" onClick={() => menuAction('focus')}>
            Focus on this block
          </li>
          <li role="menuitem" onClick={() => menuAction('copy')}>
            Copy function name
          </li>
          {props.onSandwich && (
            <li role="menuitem" onClick={() => menuAction('sandwich')}>
              Open in sandwich view
            </li>
          )}
          {props.onTrack && menu.node > 0 && (
            <li role="menuitem" onClick={() => menuAction('track')}>
              Track this function (recording rule)
            </li>
          )}
          <li role="menuitem" onClick={() => menuAction('reset')}>
            Reset view
          </li>
        </ul>
      )}
    </div>
  );
}

function widestChild(tree: FlameTree, n: NodeIndex): NodeIndex {
  let best = -1;
  const first = tree.firstChild[n]!;
  for (let c = first; c >= 0 && c < first + tree.childCount[n]!; c++)
    if (best < 0 || tree.total[c]! > tree.total[best]!) best = c;
  return best;
}

function Tooltip(props: FlameGraphProps & { tip: Tip; cssPxWidth: number }) {
  const { tree, tip, units, focus } = props;
  const i = tip.node;
  const d = tree.diff;
  const left = tip.cssPxX > props.cssPxWidth - 320 ? tip.cssPxX - 310 : tip.cssPxX + 14;
  const style = { left: Math.max(0, left), top: tip.cssPxY + 16 };
  if (d) {
    const lShare = d.leftTicks ? d.totalLeft[i]! / d.leftTicks : 0;
    const rShare = d.rightTicks ? d.totalRight[i]! / d.rightTicks : 0;
    const rel = diffIntensity(d.totalLeft[i]!, d.totalRight[i]!, d.leftTicks, d.rightTicks, 'relative');
    return (
      <div className="tooltip" style={style} role="tooltip">
        <div className="tooltip-name">{nodeName(tree, i)}</div>
        <table>
          <tbody>
            <tr>
              <th />
              <th>Baseline</th>
              <th>Comparison</th>
            </tr>
            <tr>
              <td>Share</td>
              <td>{formatPercent(lShare)}</td>
              <td>{formatPercent(rShare)}</td>
            </tr>
            <tr>
              <td>Total</td>
              <td>{formatValue(d.totalLeft[i]!, units)}</td>
              <td>{formatValue(d.totalRight[i]!, units)}</td>
            </tr>
            <tr>
              <td>Self</td>
              <td>{formatValue(d.selfLeft[i]!, units)}</td>
              <td>{formatValue(d.selfRight[i]!, units)}</td>
            </tr>
          </tbody>
        </table>
        <div className={rel > 0 ? 'worse' : rel < 0 ? 'better' : ''}>
          Change:{' '}
          {d.totalLeft[i] === 0
            ? 'new'
            : d.totalRight[i] === 0
              ? 'removed'
              : formatSignedPercent((rShare - lShare) / (lShare || 1))}
        </div>
      </div>
    );
  }
  const root = tree.numTicks || 1;
  return (
    <div className="tooltip" style={style} role="tooltip">
      <div className="tooltip-name">{nodeName(tree, i)}</div>
      <table>
        <tbody>
          <tr>
            <td>Total</td>
            <td>{formatValue(tree.total[i]!, units)}</td>
            <td>{formatPercent(tree.total[i]! / root)} of root</td>
          </tr>
          <tr>
            <td>Self</td>
            <td>{formatValue(tree.self[i]!, units)}</td>
            <td>{formatPercent(tree.self[i]! / root)} of root</td>
          </tr>
          {focus > 0 && (
            <tr>
              <td>Of focus</td>
              <td colSpan={2}>{formatPercent(tree.total[i]! / (tree.total[focus]! || 1))}</td>
            </tr>
          )}
          <tr>
            <td>{units.unit === 'count' || units.unit === 'samples' ? 'Samples' : `Raw (${units.unit})`}</td>
            <td colSpan={2}>
              {tree.total[i]!.toLocaleString('en-US')} (self {tree.self[i]!.toLocaleString('en-US')})
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
