// Pyroscope legacy binary "trie" format (/ingest?format=trie or Content-Type
// binary/octet-stream+trie). Spec: OG pyroscope pkg/og/structs/transporttrie/serialize.go.
// A radix trie over the folded stack keys ("a;b;c"): a node's name is a byte fragment of a key, a
// key is the concatenation of the names on the path from the root, and a node's value is the
// count of the key ending there. See legacy-nodes.ts for the byte layout.

import { ProfileBuilder } from '../builder.ts';
import { FormatError } from '../errors.ts';
import { stackNames, type ImportedProfiles, type Profile } from '../model.ts';
import { FOLDED_DEFAULT_TYPE, type TextImportOptions } from './folded.ts';
import { sniffNodes, walkNodes, writeNodes, type OutNode } from './legacy-nodes.ts';
import { sumByStack } from './tables.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/** A node stream with ';' in some name: fragments of folded keys. */
export function sniffTrie(head: Uint8Array): boolean {
  const r = sniffNodes(head);
  return r !== null && r.semicolon;
}

export function importTrie(bytes: Uint8Array, opts: TextImportOptions = {}): ImportedProfiles {
  const b = new ProfileBuilder([opts.type ?? FOLDED_DEFAULT_TYPE]);
  const frameByName = new Map<string, number>();
  // The key bytes of the current path; keyEnd[d] = key length after the node at depth d.
  let key = new Uint8Array(256);
  const keyEnd: number[] = [];
  walkNodes(bytes, 'trie', {
    node(depth, nameStart, nameEnd, value) {
      const start = depth === 0 ? 0 : keyEnd[depth - 1]!;
      const end = start + (nameEnd - nameStart);
      if (end > key.length) {
        const next = new Uint8Array(Math.max(end, key.length * 2));
        next.set(key.subarray(0, start));
        key = next;
      }
      key.set(bytes.subarray(nameStart, nameEnd), start);
      keyEnd[depth] = end;
      if (value === 0 || end === 0) return;
      const text = decodeUtf8(key, 0, end);
      if (text === null) {
        throw new FormatError(
          'invalid_utf8',
          `trie: key ending at node offset ${nameStart} is not valid UTF-8`,
          { offset: nameStart },
        );
      }
      let s = -1;
      for (const name of text.split(';')) {
        let f = frameByName.get(name);
        if (f === undefined) {
          f = b.frame(name);
          frameByName.set(name, f);
        }
        s = b.stack(s, f);
      }
      b.sample(s, [value]);
    },
  });
  return { format: 'trie', profiles: b.build() };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The profile's folded stacks (values summed) as a radix trie. */
export function exportTrie(profile: Profile): Uint8Array {
  const byKey = new Map<string, number>();
  for (const [stack, value] of sumByStack(profile)) {
    const k = stackNames(profile, stack).join(';');
    byKey.set(k, (byKey.get(k) ?? 0) + value);
  }
  const entries = [...byKey]
    .filter(([k, v]) => k !== '' && v !== 0)
    .map(([k, v]) => ({ key: encodeUtf8(k), value: v }))
    .sort((a, b) => compareBytes(a.key, b.key));
  const root: OutNode = { name: new Uint8Array(0), value: 0, children: [] };
  // Work list of (node, keys [lo, hi) all longer than depth, depth): the node's children are the
  // groups of keys sharing their byte at `depth`; each child's name is the group's common prefix.
  const work: Array<{ node: OutNode; lo: number; hi: number; depth: number }> = [
    { node: root, lo: 0, hi: entries.length, depth: 0 },
  ];
  while (work.length > 0) {
    const { node, lo, hi, depth } = work.pop()!;
    let a = lo;
    while (a < hi) {
      const first = entries[a]!.key[depth]!;
      let b = a + 1;
      while (b < hi && entries[b]!.key[depth] === first) b++;
      // Sorted keys: the common prefix of the group is that of its first and last key.
      const ka = entries[a]!.key;
      const kb = entries[b - 1]!.key;
      let lcp = depth + 1;
      while (lcp < ka.length && lcp < kb.length && ka[lcp] === kb[lcp]) lcp++;
      const child: OutNode = { name: ka.subarray(depth, lcp), value: 0, children: [] };
      let rest = a;
      if (ka.length === lcp) {
        child.value = entries[a]!.value;
        rest = a + 1;
      }
      node.children.push(child);
      if (rest < b) work.push({ node: child, lo: rest, hi: b, depth: lcp });
      a = b;
    }
  }
  return writeNodes(root, 'trie');
}
