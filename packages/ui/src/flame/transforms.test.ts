import { describe, expect, it } from 'vitest';
import {
  collapseRecursion,
  diffSide,
  diffTrees,
  sandwich,
  searchTree,
  sortTopTable,
  topTable,
} from './transforms.ts';
import { pic, printTree } from './picture.ts';
import { treeFromFolded } from './tree.ts';

const recursive = treeFromFolded(`
main;walk;walk;walk;visit 6
main;walk;visit 2
main;walk 1
main;log 1
`);

describe('collapseRecursion', () => {
  it('merges direct recursion into one frame', () => {
    expect(printTree(collapseRecursion(recursive))).toBe(
      pic(`
        total 10/0
          main 10/0
            log 1/1
            walk 9/1
              visit 8/8
      `),
    );
  });
});

describe('sandwich', () => {
  it('shows callers (inverted) and callees of a function, counting recursion once', () => {
    const s = sandwich(recursive, 'walk');
    expect(printTree(s.callers)).toBe(
      pic(`
        walk 9/0
          main 9/9
      `),
    );
    expect(printTree(s.callees)).toBe(
      pic(`
        walk 9/1
          visit 2/2
          walk 6/0
            walk 6/0
              visit 6/6
      `),
    );
  });

  it('collects callers from several call sites', () => {
    const t = treeFromFolded('a;x;leaf 3\nb;x 2\nb;y;x;leaf 1\n');
    expect(printTree(sandwich(t, 'x').callers)).toBe(
      pic(`
        x 6/0
          a 3/3
          b 2/2
          y 1/0
            b 1/1
      `),
    );
  });
});

describe('topTable', () => {
  it('sums self per function and total once per stack', () => {
    const rows = sortTopTable(topTable(recursive), 'total', true);
    expect(rows.map((r) => `${r.name} self=${r.self} total=${r.total}`)).toEqual([
      'main self=0 total=10',
      'walk self=1 total=9',
      'visit self=8 total=8',
      'log self=1 total=1',
    ]);
    expect(sortTopTable(rows, 'self', true)[0]!.name).toBe('visit');
    expect(sortTopTable(rows, 'name', false).map((r) => r.name)).toEqual(['log', 'main', 'visit', 'walk']);
  });
});

describe('searchTree', () => {
  it('marks matches and sums their share once per stack', () => {
    const r = searchTree(recursive, 'WALK');
    expect(r.matchCount).toBe(3);
    expect(r.matchedTicks).toBe(9);
    expect(r.share).toBeCloseTo(0.9);
    const re = searchTree(recursive, '/^(log|visit)$/');
    expect(re.matchedTicks).toBe(9);
    expect(searchTree(recursive, '').matchCount).toBe(0);
    expect(searchTree(recursive, 'nothing').share).toBe(0);
  });
});

describe('diffTrees', () => {
  it('merges two trees into one shape with both sides', () => {
    const before = treeFromFolded('main;a 8\nmain;b 2\n');
    const after = treeFromFolded('main;a 4\nmain;c 6\n');
    const d = diffTrees(before, after);
    expect(printTree(d)).toBe(
      pic(`
        total L 10/0 R 10/0
          main L 10/0 R 10/0
            a L 8/8 R 4/4
            b L 2/2 R 0/0
            c L 0/0 R 6/6
      `),
    );
    expect(printTree(diffSide(d, 'right'))).toBe(printTree(after));
    const rows = sortTopTable(topTable(d), 'diff', true, d);
    expect(rows[0]!.name).toBe('c');
    expect(rows.at(-1)!.name).toBe('a');
  });
});
