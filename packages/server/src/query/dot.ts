// Graphviz DOT of a merged profile for `/render?format=dot` (pprof's graph view shape): one node
// per function name with self and total ("of"), one edge per caller → callee with the callee total.
// Built over core's call tree truncated to maxNodes, so the graph stays bounded.

import { buildCallTree, truncateTree, type Profile } from '@hotpath/core';

function pct(v: number, total: number): string {
  return total === 0 ? '0%' : `${((v / total) * 100).toFixed(2)}%`;
}

/** Escapes a name for use inside a double-quoted DOT string. */
function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function exportDotText(profile: Profile, maxNodes: number): string {
  const tree = truncateTree(buildCallTree(profile), maxNodes);
  const total = tree.total[0] ?? 0;
  const ids = new Map<string, number>();
  const self: number[] = [];
  const cum: number[] = [];
  const edges = new Map<string, number>();
  const idOf = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = ids.size;
      ids.set(name, id);
      self.push(0);
      cum.push(0);
    }
    return id;
  };
  // Per tree node: is its name already on the path above it (recursion counts once in cum)?
  const onPath = new Map<string, number>();
  const pathNames: string[] = [];
  for (let i = 1; i < tree.length; i++) {
    const depth = tree.depth[i]!;
    while (pathNames.length >= depth) {
      const gone = pathNames.pop()!;
      onPath.set(gone, onPath.get(gone)! - 1);
    }
    const name = tree.name[i]!;
    const id = idOf(name);
    self[id]! += tree.self[i]!;
    if ((onPath.get(name) ?? 0) === 0) cum[id]! += tree.total[i]!;
    const parent = tree.parent[i]!;
    if (parent > 0) {
      const key = `${idOf(tree.name[parent]!)} ${id}`;
      edges.set(key, (edges.get(key) ?? 0) + tree.total[i]!);
    }
    pathNames.push(name);
    onPath.set(name, (onPath.get(name) ?? 0) + 1);
  }
  const type = profile.type;
  const lines = [
    'digraph "unnamed" {',
    'node [style=filled fillcolor="#f8f8f8"]',
    `subgraph cluster_L { "Type: ${type.sampleType}" [shape=box fontsize=16 label="Type: ${type.sampleType}\\lShowing nodes accounting for ${total} ${type.sampleUnit}, 100% of ${total} total\\l"] }`,
  ];
  for (const [name, id] of ids) {
    const label = `${esc(name)}\\n${self[id]} (${pct(self[id]!, total)})\\nof ${cum[id]} (${pct(cum[id]!, total)})`;
    const size = 8 + Math.round(16 * (total === 0 ? 0 : self[id]! / total));
    lines.push(
      `N${id + 1} [label="${label}" id="node${id + 1}" fontsize=${size} shape=box tooltip="${esc(name)} (${cum[id]})"]`,
    );
  }
  for (const [key, value] of edges) {
    const [from, to] = key.split(' ').map(Number) as [number, number];
    lines.push(
      `N${from + 1} -> N${to + 1} [label=" ${value}" weight=${Math.max(1, Math.round((value / Math.max(total, 1)) * 100))}]`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
