// The node stream shared by Pyroscope's legacy "trie" and "tree" binary formats (OG pyroscope:
// pkg/og/structs/transporttrie/serialize.go and pkg/og/storage/tree/serialize.go, "no dict").
// Nodes are written depth-first, pre-order, each as
//   uvarint name length | name bytes | uvarint value | uvarint child count
// and the first node is the root. Varints are Go's binary.Uvarint (= protobuf varints).

import { FormatError } from '../errors.ts';
import { ByteWriter, readVarint, type Cursor } from './proto.ts';

export interface NodeVisitor {
  /** Called for every node, pre-order; `depth` 0 is the root. */
  node(depth: number, nameStart: number, nameEnd: number, value: number): void;
}

/**
 * Walks the whole stream; throws '<format>_truncated' when it ends early and
 * '<format>_trailing_bytes' when bytes follow the root's subtree.
 */
export function walkNodes(bytes: Uint8Array, format: string, visit: NodeVisitor): void {
  const c: Cursor = { bytes, pos: 0, format };
  const end = bytes.length;
  // remaining[d] = children still to read at depth d (explicit stack: no recursion on deep input).
  const remaining: number[] = [1];
  while (remaining.length > 0) {
    const depth = remaining.length - 1;
    if (remaining[depth] === 0) {
      remaining.pop();
      continue;
    }
    remaining[depth]!--;
    const at = c.pos;
    const nameLen = readVarint(c, end);
    if (c.pos + nameLen > end) {
      throw new FormatError(
        `${format}_truncated`,
        `${format}: node name at offset ${at} (${nameLen} bytes) runs past the end (${end} bytes)`,
        {
          offset: at,
          length: end,
        },
      );
    }
    const nameStart = c.pos;
    c.pos += nameLen;
    const value = readVarint(c, end);
    const children = readVarint(c, end);
    visit.node(depth, nameStart, nameStart + nameLen, value);
    if (children > 0) remaining.push(children);
  }
  if (c.pos !== end) {
    throw new FormatError(
      `${format}_trailing_bytes`,
      `${format}: ${end - c.pos} bytes follow the root node at offset ${c.pos}`,
      {
        offset: c.pos,
        length: end,
      },
    );
  }
}

/**
 * Sniffing: the stream starts with an empty root name (byte 0), every name in the head is free of
 * control bytes, and the head parses as a node stream (running off the head's end is fine).
 * Returns whether any name contains ';' (a trie of folded keys) or null when it does not parse.
 */
export function sniffNodes(head: Uint8Array): { semicolon: boolean } | null {
  if (head.length < 3 || head[0] !== 0) return null;
  let semicolon = false;
  const c: Cursor = { bytes: head, pos: 0, format: 'sniff' };
  const end = head.length;
  const remaining: number[] = [1];
  try {
    while (remaining.length > 0) {
      const depth = remaining.length - 1;
      if (remaining[depth] === 0) {
        remaining.pop();
        continue;
      }
      remaining[depth]!--;
      const nameLen = readVarint(c, end);
      if (nameLen > 65536) return null;
      const nameEnd = Math.min(end, c.pos + nameLen);
      for (let i = c.pos; i < nameEnd; i++) {
        const b = head[i]!;
        if (b < 0x20 || b === 0x7f) return null;
        if (b === 0x3b) semicolon = true;
      }
      if (c.pos + nameLen > end) return { semicolon };
      c.pos += nameLen;
      readVarint(c, end);
      const children = readVarint(c, end);
      if (children > 0) remaining.push(children);
    }
  } catch {
    return { semicolon }; // ran off the head
  }
  return c.pos === end ? { semicolon } : null;
}

/** A node to serialize. */
export interface OutNode {
  name: Uint8Array;
  value: number;
  children: OutNode[];
}

export function writeNodes(root: OutNode, format: string): Uint8Array {
  const w = new ByteWriter(4096);
  const stack: OutNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (!(n.value >= 0)) {
      throw new FormatError(
        `${format}_negative_value`,
        `${format}: cannot encode value ${n.value} (values are unsigned)`,
        {
          value: n.value,
        },
      );
    }
    w.varint(n.name.length);
    w.bytes(n.name);
    w.varint(Math.round(n.value));
    w.varint(n.children.length);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return w.finish();
}
