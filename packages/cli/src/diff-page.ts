// The self-contained page of `hotpath diff --html`: a diff flame graph (Pyroscope's double
// flamebearer, from core's toFlamebearerDiff) drawn by a small inline script, no network access.
import type { FlamebearerDiff } from '@hotpath/core';

export interface DiffPageInput {
  readonly title: string;
  /** Sample unit of both sides (nanoseconds, bytes...). */
  readonly unit: string;
  readonly flame: FlamebearerDiff;
  /** Plain-text summary shown above the graph (the diff table). */
  readonly summary: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside <script>: no `</script>` or `<!--` can close or confuse the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// Runs in the page. Nodes are decoded from the delta-encoded 7-tuples [xL, totalL, selfL, xR,
// totalR, selfR, name]; a node's width is its left plus right total, so both sides fit one axis;
// its colour is the change of its share: red grew, green shrank, grey unchanged.
const SCRIPT = `
const data = JSON.parse(document.getElementById('hotpath-data').textContent);
const fb = data.flame;
const rows = fb.levels.map((row) => {
  const out = [];
  let endL = 0, endR = 0;
  for (let i = 0; i < row.length; i += 7) {
    const xl = endL + row[i], tl = row[i + 1], xr = endR + row[i + 3], tr = row[i + 4];
    endL = xl + tl; endR = xr + tr;
    out.push({ x: xl + xr, w: tl + tr, tl, sl: row[i + 2], tr, sr: row[i + 5], name: fb.names[row[i + 6]] });
  }
  return out;
});
const graph = document.getElementById('graph');
const tip = document.getElementById('tip');
const ROW_PX = 18;
let zoom = { x: 0, w: fb.numTicks, level: 0 };
const share = (v, t) => (t > 0 ? v / t : 0);
function colour(n) {
  const l = share(n.tl, fb.leftTicks), r = share(n.tr, fb.rightTicks);
  const change = l === 0 ? (r > 0 ? 1 : 0) : Math.max(-1, Math.min(1, (r - l) / l));
  const a = Math.min(1, Math.abs(change) * 2);
  if (Math.abs(change) < 0.02) return 'rgb(200,200,200)';
  return change > 0 ? 'rgba(220,40,40,' + (0.25 + 0.75 * a) + ')' : 'rgba(40,160,60,' + (0.25 + 0.75 * a) + ')';
}
function pct(x) { return (x * 100).toFixed(2) + '%'; }
function render() {
  graph.innerHTML = '';
  const width = graph.clientWidth;
  graph.style.height = rows.length * ROW_PX + 'px';
  rows.forEach((row, level) => {
    for (const n of row) {
      if (n.x + n.w <= zoom.x || n.x >= zoom.x + zoom.w) continue;
      if (level < zoom.level && !(n.x <= zoom.x && n.x + n.w >= zoom.x + zoom.w)) continue;
      const left = Math.max(0, (n.x - zoom.x) / zoom.w) * width;
      const right = Math.min(1, (n.x + n.w - zoom.x) / zoom.w) * width;
      if (right - left < 1) continue;
      const d = document.createElement('div');
      d.className = 'node';
      d.style.left = left + 'px';
      d.style.width = right - left - 1 + 'px';
      d.style.top = level * ROW_PX + 'px';
      d.style.background = colour(n);
      d.textContent = right - left > 30 ? n.name : '';
      d.dataset.info = n.name + '\\nbase: ' + pct(share(n.tl, fb.leftTicks)) + ' total, ' + pct(share(n.sl, fb.leftTicks)) +
        ' self\\nhead: ' + pct(share(n.tr, fb.rightTicks)) + ' total, ' + pct(share(n.sr, fb.rightTicks)) + ' self';
      d.onclick = () => { zoom = level === 0 ? { x: 0, w: fb.numTicks, level: 0 } : { x: n.x, w: n.w, level }; render(); };
      d.onmousemove = (e) => { tip.textContent = d.dataset.info; tip.style.display = 'block'; tip.style.left = e.pageX + 12 + 'px'; tip.style.top = e.pageY + 12 + 'px'; };
      d.onmouseleave = () => { tip.style.display = 'none'; };
      graph.appendChild(d);
    }
  });
}
window.addEventListener('resize', render);
render();
`;

/** The whole page as one HTML string: data, style and script inline. */
export function diffPage(input: DiffPageInput): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Hotpath diff: ${escapeHtml(input.title)}</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
#graph { position: relative; width: 100%; }
.node { position: absolute; height: 17px; line-height: 17px; overflow: hidden; white-space: nowrap;
  font: 11px ui-monospace, monospace; padding-left: 2px; box-sizing: border-box; cursor: pointer; }
#tip { position: absolute; display: none; white-space: pre; background: #fff; border: 1px solid #888;
  padding: 4px 6px; font: 12px ui-monospace, monospace; pointer-events: none; }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin: 0 4px 0 12px; }
</style>
</head>
<body>
<h1>Hotpath diff: ${escapeHtml(input.title)}</h1>
<p class="legend">Width: base and head together (${escapeHtml(input.unit)}). Colour: change of share
<span style="background:rgba(220,40,40,1)"></span>grew<span style="background:rgba(40,160,60,1)"></span>shrank<span style="background:rgb(200,200,200)"></span>unchanged. Click a frame to zoom, the root to reset.</p>
<pre>${escapeHtml(input.summary)}</pre>
<div id="graph"></div>
<div id="tip"></div>
<script type="application/json" id="hotpath-data">${scriptJson({ flame: input.flame })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
