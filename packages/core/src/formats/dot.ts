// Graphviz DOT call graph, in the spirit of `go tool pprof -dot`
// (https://graphviz.org/doc/info/lang.html): one node per function (name + file) labelled with its
// self and total values, one edge per caller → callee pair weighted by the value flowing through it.
// Recursion is counted once per stack for totals and edges. Only the `maxNodes` functions with the
// largest totals are drawn; edges touching dropped functions are dropped and the legend says so.

import { stackFrames, totalValue, type Profile } from '../model.ts';
import { sumByStack } from './tables.ts';

export interface DotOptions {
  /** Most functions drawn (largest totals first); default 80, like pprof. */
  maxNodes?: number;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function percent(v: number, total: number): string {
  return total === 0 ? '0%' : `${((100 * v) / total).toFixed(2)}%`;
}

export function exportDot(profile: Profile, opts: DotOptions = {}): string {
  const maxNodes = Math.max(1, opts.maxNodes ?? 80);
  const total = totalValue(profile);
  // Function = distinct (name, file); frames at different lines of one function are one node.
  const fnOfFrame = new Int32Array(profile.frames.length);
  const fnKey = new Map<string, number>();
  const fnName: string[] = [];
  for (let f = 0; f < profile.frames.length; f++) {
    const name = profile.frames.name[f] ?? '';
    const key = `${name}\u0000${profile.frames.file[f] ?? ''}`;
    let i = fnKey.get(key);
    if (i === undefined) {
      i = fnName.length;
      fnKey.set(key, i);
      fnName.push(name);
    }
    fnOfFrame[f] = i;
  }
  const self = new Float64Array(fnName.length);
  const cum = new Float64Array(fnName.length);
  const edges = new Map<string, number>();
  for (const [stack, value] of sumByStack(profile)) {
    const fns = stackFrames(profile.stacks, stack).map((f) => fnOfFrame[f]!);
    self[fns[fns.length - 1]!]! += value;
    const seen = new Set<number>();
    const seenEdge = new Set<string>();
    for (let k = 0; k < fns.length; k++) {
      if (!seen.has(fns[k]!)) {
        seen.add(fns[k]!);
        cum[fns[k]!]! += value;
      }
      if (k > 0) {
        const e = `${fns[k - 1]},${fns[k]}`;
        if (!seenEdge.has(e)) {
          seenEdge.add(e);
          edges.set(e, (edges.get(e) ?? 0) + value);
        }
      }
    }
  }
  const order = fnName.map((_, i) => i).filter((i) => cum[i] !== 0 || self[i] !== 0);
  order.sort((a, b) => cum[b]! - cum[a]! || (fnName[a]! < fnName[b]! ? -1 : 1));
  const kept = order.slice(0, maxNodes);
  const keptSet = new Set(kept);
  const unit = profile.type.sampleUnit;
  const maxCum = kept.reduce((m, i) => Math.max(m, Math.abs(cum[i]!)), 1);

  const out: string[] = [];
  out.push(`digraph ${quote(profile.type.id)} {`);
  out.push('node [style=filled fillcolor="#f8f8f8" shape=box fontname="Helvetica"]');
  const legend = [
    `Type: ${profile.type.id}`,
    `Total: ${total} ${unit}`,
    `Showing ${kept.length} of ${order.length} functions`,
  ];
  if (kept.length < order.length)
    legend.push(`Dropped ${order.length - kept.length} functions with the smallest totals`);
  out.push(`subgraph cluster_L { "legend" [shape=note label=${quote(legend.join('\n'))}] }`);
  for (const i of kept) {
    const label = `${fnName[i]}\n${self[i]} (${percent(self[i]!, total)})\nof ${cum[i]} (${percent(cum[i]!, total)})`;
    // Font size grows with self value, as in pprof; colour intensity with total.
    const fontsize = 8 + Math.round((32 * Math.abs(self[i]!)) / Math.max(1, Math.abs(total)));
    const shade = Math.round(255 - (155 * Math.abs(cum[i]!)) / maxCum);
    const fill = `#ff${shade.toString(16).padStart(2, '0')}${shade.toString(16).padStart(2, '0')}`;
    out.push(`N${i} [label=${quote(label)} fontsize=${fontsize} fillcolor="${fill}"]`);
  }
  const edgeList = [...edges].filter(([k]) => {
    const [a, b] = k.split(',').map(Number) as [number, number];
    return keptSet.has(a) && keptSet.has(b);
  });
  edgeList.sort((x, y) => y[1] - x[1]);
  for (const [k, w] of edgeList) {
    const [a, b] = k.split(',');
    const width = 1 + Math.round((4 * Math.abs(w)) / maxCum);
    out.push(
      `N${a} -> N${b} [label=" ${w}" weight=${Math.max(1, Math.round((100 * Math.abs(w)) / maxCum))} penwidth=${width}]`,
    );
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
