// PROFILE_FORMAT_TREE: Pyroscope's serialized tree (pkg/model tree.go MarshalTruncate), built from a
// flame graph that is already truncated to max_nodes. Depth first from a virtual root named "":
// per node varint(name length), name bytes, varint(self), varint(number of children).

import { ProtoWriter } from '../connect/wire.ts';
import type { FlameGraphMessage } from './messages.ts';

interface Node {
  readonly name: number;
  readonly self: number;
  readonly children: Node[];
}

/** The tree bytes of a flame graph (its "total" root becomes the virtual root); empty for no data. */
export function encodeTreeBytes(fg: Pick<FlameGraphMessage, 'names' | 'levels'>): Uint8Array {
  if (fg.levels.length < 2) return new Uint8Array(0);
  // Rebuild parent links from x positions: a node lies inside [x, x + total) of its parent one level up.
  let above: { x: number; total: number; node: Node }[] = [];
  const root: Node = { name: -1, self: 0, children: [] };
  for (let depth = 1; depth < fg.levels.length; depth++) {
    const level = fg.levels[depth]!;
    const row: { x: number; total: number; node: Node }[] = [];
    let x = 0;
    let p = 0;
    for (let i = 0; i + 3 < level.length; i += 4) {
      x += level[i]!;
      const total = level[i + 1]!;
      const node: Node = { name: level[i + 3]!, self: level[i + 2]!, children: [] };
      if (depth === 1) root.children.push(node);
      else {
        while (p < above.length && above[p]!.x + above[p]!.total <= x) p++;
        above[p]?.node.children.push(node);
      }
      row.push({ x, total, node });
      x += total;
    }
    above = row;
  }
  const w = new ProtoWriter();
  const text = new TextEncoder();
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const name = text.encode(n.name < 0 ? '' : (fg.names[n.name] ?? ''));
    w.rawVarint(name.length);
    w.rawBytes(name);
    w.rawVarint(Math.max(0, Math.round(n.self)));
    w.rawVarint(n.children.length);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return w.finish();
}
