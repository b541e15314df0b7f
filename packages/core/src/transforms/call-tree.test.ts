import { describe, expect, it } from 'vitest';
import { dedent, printFolded, printTree, profileFromFolded } from '../testing/pictures.ts';
import { buildCallTree, callTreeToProfile, getChildren, truncateTree } from './call-tree.ts';

const picture = profileFromFolded(`
  main;parse;lex 30
  main;parse;tokens 3
  main;eval;add 12
  main;eval;mul 2
  main;eval 4
  main;gc 1
  idle 8
`);

describe('buildCallTree', () => {
  it('merges by name, sorts children by name, sums self into total', () => {
    expect(printTree(buildCallTree(picture))).toBe(
      dedent(`
        total 60
          idle 8 self 8
          main 52
            eval 18 self 4
              add 12 self 12
              mul 2 self 2
            gc 1 self 1
            parse 33
              lex 30 self 30
              tokens 3 self 3
      `),
    );
  });

  it('numbers nodes in pre-order with parent, depth and child lists', () => {
    const t = buildCallTree(profileFromFolded('a;b 1\na;c 2\nd 3'));
    expect(t.name).toEqual(['total', 'a', 'b', 'c', 'd']);
    expect([...t.parent]).toEqual([-1, 0, 1, 1, 0]);
    expect([...t.depth]).toEqual([0, 1, 2, 2, 1]);
    expect([...getChildren(t, 0)]).toEqual([1, 4]);
    expect([...getChildren(t, 1)]).toEqual([2, 3]);
    expect([...getChildren(t, 2)]).toEqual([]);
  });

  it('orders names by code point, as Go does', () => {
    const t = buildCallTree(profileFromFolded('\u{1F600} 1\n\uFF01 1\nB 1\na 1'));
    expect(t.name.slice(1)).toEqual(['B', 'a', '\uFF01', '\u{1F600}']);
  });
});

describe('truncateTree', () => {
  it('keeps nodes whose total reaches the maxNodes-th largest and adds `other` after the kept ones', () => {
    // Totals (root excluded): main 52, lex 30, parse 33, eval 18, add 12, idle 8, ... 4th largest = 18.
    expect(printTree(truncateTree(buildCallTree(picture), 4))).toBe(
      dedent(`
        total 60
          main 52
            eval 18 self 4
              other 14 self 14
            parse 33
              lex 30 self 30
              other 3 self 3
            other 1 self 1
          other 8 self 8
      `),
    );
  });

  it('is the identity when the tree is small enough, and conserves totals', () => {
    const full = buildCallTree(picture);
    expect(printTree(truncateTree(full, 100))).toBe(printTree(full));
    expect(printTree(truncateTree(full, 0))).toBe(printTree(full));
    for (const n of [1, 2, 3, 5, 7]) {
      const t = truncateTree(full, n);
      let sum = 0;
      for (let i = 0; i < t.length; i++) sum += t.self[i]!;
      expect(sum).toBe(60);
    }
  });

  it('turns back into a profile with the same stacks', () => {
    expect(printFolded(callTreeToProfile(buildCallTree(picture), picture.type))).toBe(printFolded(picture));
  });
});
