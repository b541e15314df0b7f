import { describe, expect, it } from 'vitest';
import {
  TreeBuilder,
  decodeFlamebearer,
  decodeFlamebearerDiff,
  encodeFlamebearer,
  findNodeByPath,
  nodePath,
  treeFromFolded,
  treeToFolded,
} from './tree.ts';
import { pic, printTree } from './picture.ts';

// The worked example of pyroscope-compat §3.2: stacks a;b;e=1, a;c=2, a;c;d=1.
const single = {
  names: ['total', 'a', 'c', 'd', 'b', 'e'],
  levels: [
    [0, 4, 0, 0],
    [0, 4, 0, 1],
    [0, 1, 0, 4, 0, 3, 2, 2],
    [0, 1, 1, 5, 2, 1, 1, 3],
  ],
  numTicks: 4,
  maxSelf: 2,
};

describe('decodeFlamebearer', () => {
  it('decodes delta-encoded rows into a tree with parents', () => {
    const tree = decodeFlamebearer(single);
    expect(printTree(tree)).toBe(
      pic(`
        total 4/0
          a 4/0
            b 1/0
              e 1/1
            c 3/2
              d 1/1
      `),
    );
    expect(Array.from(tree.xTicks)).toEqual([0, 0, 0, 1, 0, 3]);
    expect(tree.numTicks).toBe(4);
    expect(nodePath(tree, 5)).toEqual(['a', 'c', 'd']);
    expect(findNodeByPath(tree, ['a', 'c', 'd'])).toBe(5);
    expect(findNodeByPath(tree, ['a', 'x'])).toBe(-1);
  });

  it('round-trips through encodeFlamebearer and matches the builder', () => {
    const built = treeFromFolded('a;b;e 1\na;c 2\na;c;d 1\n');
    const enc = encodeFlamebearer(built);
    expect(enc.levels).toEqual([
      [0, 4, 0, 0],
      [0, 4, 0, 1],
      [0, 1, 0, 2, 0, 3, 2, 4],
      [0, 1, 1, 3, 2, 1, 1, 5],
    ]);
    expect(printTree(decodeFlamebearer(enc))).toBe(printTree(decodeFlamebearer(single)));
  });

  it('decodes the diff example (7-tuples, two x columns)', () => {
    const diff = {
      names: ['total', 'a', 'c', 'b'],
      levels: [
        [0, 3, 0, 0, 12, 0, 0],
        [0, 3, 0, 0, 12, 0, 1],
        [0, 1, 1, 0, 4, 4, 3, 0, 2, 2, 0, 8, 8, 2],
      ],
      numTicks: 15,
      maxSelf: 8,
    };
    const tree = decodeFlamebearerDiff(diff, 3, 12);
    expect(printTree(tree)).toBe(
      pic(`
        total L 3/0 R 12/0
          a L 3/0 R 12/0
            b L 1/1 R 4/4
            c L 2/2 R 8/8
      `),
    );
    // Combined x: c starts after b's left (1) and right (4) widths.
    expect(tree.xTicks[3]).toBe(5);
    expect(tree.total[3]).toBe(10);
  });
});

describe('TreeBuilder', () => {
  it('sums duplicate stacks, sorts children by name and puts self first', () => {
    const tree = treeFromFolded('main;zeta 3\nmain;alpha 2\nmain 5\nmain;zeta 1\nbad line\n');
    expect(printTree(tree)).toBe(
      pic(`
        total 11/0
          main 11/5
            alpha 2/2
            zeta 4/4
      `),
    );
    expect(Array.from(tree.xTicks)).toEqual([0, 0, 5, 7]);
    expect(treeToFolded(tree)).toBe('main 5\nmain;alpha 2\nmain;zeta 4\n');
  });

  it('builds diff trees with both sides', () => {
    const b = new TreeBuilder(true);
    b.add(['a', 'b'], 1, 0);
    b.add(['a', 'c'], 0, 3);
    const tree = b.build();
    expect(tree.diff?.leftTicks).toBe(1);
    expect(tree.diff?.rightTicks).toBe(3);
    expect(printTree(tree)).toBe(
      pic(`
        total L 1/0 R 3/0
          a L 1/0 R 3/0
            b L 1/1 R 0/0
            c L 0/0 R 3/3
      `),
    );
  });
});
