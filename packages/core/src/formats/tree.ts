// Pyroscope legacy binary "tree" format ("no dict" serialization, /ingest?format=tree or
// Content-Type binary/octet-stream+tree). Spec: OG pyroscope pkg/og/storage/tree/serialize.go
// (SerializeNoDict / DeserializeNoDict). Each node is one frame; its value is its self value; the
// root node's name is empty and is not a frame. See legacy-nodes.ts for the byte layout.

import { ProfileBuilder } from '../builder.ts';
import { FormatError } from '../errors.ts';
import { stackNames, type ImportedProfiles, type Profile } from '../model.ts';
import { FOLDED_DEFAULT_TYPE, type TextImportOptions } from './folded.ts';
import { sniffNodes, walkNodes, writeNodes, type OutNode } from './legacy-nodes.ts';
import { sumByStack } from './tables.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/** A node stream whose names never contain ';' (a trie's keys are ';'-joined stacks). */
export function sniffTree(head: Uint8Array): boolean {
  const r = sniffNodes(head);
  return r !== null && !r.semicolon;
}

export function importTree(bytes: Uint8Array, opts: TextImportOptions = {}): ImportedProfiles {
  const b = new ProfileBuilder([opts.type ?? FOLDED_DEFAULT_TYPE]);
  // stackAt[d] = stack of the current node at depth d (d ≥ 1); the root (depth 0) has none.
  const stackAt: number[] = [-1];
  walkNodes(bytes, 'tree', {
    node(depth, nameStart, nameEnd, value) {
      if (depth === 0) return;
      const name = decodeUtf8(bytes, nameStart, nameEnd);
      if (name === null) {
        throw new FormatError('invalid_utf8', `tree: node name at offset ${nameStart} is not valid UTF-8`, {
          offset: nameStart,
        });
      }
      const s = b.stack(stackAt[depth - 1]!, b.frame(name));
      stackAt[depth] = s;
      if (value > 0) b.sample(s, [value]);
    },
  });
  return { format: 'tree', profiles: b.build() };
}

interface NameNode {
  name: string;
  value: number;
  children: Map<string, NameNode>;
}

/** The profile as a tree of frame names (samples with the same names merged), children sorted by name. */
export function exportTree(profile: Profile): Uint8Array {
  const root: NameNode = { name: '', value: 0, children: new Map() };
  for (const [stack, value] of sumByStack(profile)) {
    let n = root;
    for (const name of stackNames(profile, stack)) {
      let c = n.children.get(name);
      if (c === undefined) {
        c = { name, value: 0, children: new Map() };
        n.children.set(name, c);
      }
      n = c;
    }
    n.value += value;
  }
  return writeNodes(toOutNodes(root), 'tree');
}

/** Converts without recursion, so deep stacks cannot overflow the call stack. */
function toOutNodes(root: NameNode): OutNode {
  const out: OutNode = { name: encodeUtf8(root.name), value: root.value, children: [] };
  const work: Array<[NameNode, OutNode]> = [[root, out]];
  while (work.length > 0) {
    const [n, o] = work.pop()!;
    const kids = [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const k of kids) {
      const ko: OutNode = { name: encodeUtf8(k.name), value: k.value, children: [] };
      o.children.push(ko);
      work.push([k, ko]);
    }
  }
  return out;
}
