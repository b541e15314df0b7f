// The Spans view's pure parts: what a pasted id is, and Connect's FlameGraph JSON read as a tree.
import { describe, expect, it } from 'vitest';
import { flamebearerOfFlameGraph } from './api.ts';
import { classifyId } from './components/Spans.tsx';
import { decodeFlamebearer, treeToFolded } from './flame/tree.ts';

describe('classifyId', () => {
  it('reads up to 16 hex digits as a span id and up to 32 as a trace id, padded and lower-cased', () => {
    expect(classifyId(' A1B2c3d4e5f60718 ')).toEqual({ kind: 'span', id: 'a1b2c3d4e5f60718' });
    expect(classifyId('b1')).toEqual({ kind: 'span', id: '00000000000000b1' });
    expect(classifyId('4bf92f3577b34da6a3ce929d0e0e4736')).toEqual({
      kind: 'trace',
      id: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(classifyId('1' + '0'.repeat(16))).toEqual({
      kind: 'trace',
      id: '0'.repeat(15) + '1' + '0'.repeat(16),
    });
    for (const bad of ['', 'not an id', 'a1b2-c3d4', '0'.repeat(33)]) expect(classifyId(bad)).toBeNull();
  });
});

describe('flamebearerOfFlameGraph', () => {
  it("reads Pyroscope's worked example (int64 as strings) as the same tree", () => {
    // pkg/model/flamegraph_test.go: stacks a;b;e=1, a;c=2, a;c;d=1.
    const graph = {
      names: ['total', 'a', 'c', 'd', 'b', 'e'],
      levels: [
        { values: ['0', '4', '0', '0'] },
        { values: ['0', '4', '0', '1'] },
        { values: ['0', '1', '0', '4', '0', '3', '2', '2'] },
        { values: ['0', '1', '1', '5', '2', '1', '1', '3'] },
      ],
      total: '4',
      maxSelf: '2',
    };
    const tree = decodeFlamebearer(flamebearerOfFlameGraph(graph));
    expect(tree.numTicks).toBe(4);
    expect(treeToFolded(tree)).toBe('a;c 2\na;b;e 1\na;c;d 1\n');
  });

  it('reads an empty answer (no samples of the span) as an empty tree', () => {
    expect(decodeFlamebearer(flamebearerOfFlameGraph(undefined)).numTicks).toBe(0);
  });
});
