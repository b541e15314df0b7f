import { describe, expect, it } from 'vitest';
import { FormatError } from '../errors.ts';
import { dedent, printFolded, printTree, profileFromFolded } from '../testing/pictures.ts';
import { decodeFlamebearer, decodeFlamebearerDiff, toFlamebearer, toFlamebearerDiff } from './flamebearer.ts';
import { buildCallTree, callTreeToProfile, truncateTree } from './call-tree.ts';

describe('toFlamebearer', () => {
  it('reproduces the worked example of pkg/model/flamegraph_test.go', () => {
    const p = profileFromFolded(`
      a;b;e 1
      a;c 2
      a;c;d 1
    `);
    expect(toFlamebearer(p)).toEqual({
      names: ['total', 'a', 'c', 'd', 'b', 'e'],
      levels: [
        [0, 4, 0, 0],
        [0, 4, 0, 1],
        [0, 1, 0, 4, 0, 3, 2, 2],
        [0, 1, 1, 5, 2, 1, 1, 3],
      ],
      numTicks: 4,
      maxSelf: 2,
    });
  });

  it('gives the empty flame graph for an empty profile', () => {
    expect(toFlamebearer(profileFromFolded(''))).toEqual({
      names: ['total'],
      levels: [[0, 0, 0, 0]],
      numTicks: 0,
      maxSelf: 0,
    });
  });

  it('merges frames by name and sums duplicate stacks, input untouched', () => {
    const p = profileFromFolded(`
      a;b 1
      a;b 2
      x 3
    `);
    const before = printFolded(p);
    const fb = toFlamebearer(p);
    expect(fb.names).toEqual(['total', 'x', 'a', 'b']);
    expect(fb.levels).toEqual([
      [0, 6, 0, 0],
      [0, 3, 0, 2, 0, 3, 3, 1],
      [0, 3, 3, 3],
    ]);
    expect(printFolded(p)).toBe(before);
  });

  it('truncates to maxNodes with one `other` child after the kept children', () => {
    const p = profileFromFolded(`
      a;b 10
      a;c 1
      a;d 2
      e 1
    `);
    // Nodes (root excluded): a 13, b 10, d 2, c 1, e 1. maxNodes 3 -> threshold 2 (3rd largest).
    const fb = toFlamebearer(p, { maxNodes: 3 });
    expect(printTree(decodeFlamebearer(fb))).toBe(
      dedent(`
        total 14
          a 13
            b 10 self 10
            d 2 self 2
            other 1 self 1
          other 1 self 1
      `),
    );
    // `other` is the first name visited under each node (the DFS pops the last pushed child first).
    expect(fb.names).toEqual(['total', 'other', 'a', 'd', 'b']);
    expect(fb.levels[1]).toEqual([0, 13, 0, 2, 0, 1, 1, 1]);
    expect(fb.levels[2]).toEqual([0, 10, 10, 4, 0, 2, 2, 3, 0, 1, 1, 1]);
  });

  it('agrees with truncateTree on the same maxNodes', () => {
    const p = profileFromFolded(`
      main;parse;lex 30
      main;parse;tokens 3
      main;eval;add 12
      main;eval;mul 2
      main;eval 4
      main;gc 1
      idle 8
    `);
    for (const maxNodes of [1, 2, 3, 5, 8, 100]) {
      const viaFlamebearer = printFolded(decodeFlamebearer(toFlamebearer(p, { maxNodes })));
      const viaTree = printFolded(callTreeToProfile(truncateTree(buildCallTree(p), maxNodes), p.type));
      expect(viaFlamebearer, `maxNodes ${maxNodes}`).toBe(viaTree);
    }
  });

  it('merges a real `other` function into the synthetic one, as Pyroscope does', () => {
    const p = profileFromFolded(`
      a;other;x 2
      a;y 5
    `);
    expect(printTree(decodeFlamebearer(toFlamebearer(p)))).toBe(
      dedent(`
        total 7
          a 7
            other 2 self 2
            y 5 self 5
      `),
    );
  });
});

describe('decodeFlamebearer', () => {
  it('round-trips stacks and values', () => {
    const p = profileFromFolded(`
      a;b;c 5
      a;b 1
      a;d 7
      z;y;x 2
    `);
    expect(printFolded(decodeFlamebearer(toFlamebearer(p)))).toBe(printFolded(p));
  });

  it('rejects malformed levels with a coded error naming the level', () => {
    const bad = {
      names: ['total', 'a'],
      levels: [
        [0, 1, 0, 0],
        [0, 1, 1, 9],
      ],
    };
    expect(() => decodeFlamebearer(bad)).toThrowError(FormatError);
    try {
      decodeFlamebearer(bad);
    } catch (e) {
      expect((e as FormatError).code).toBe('flamebearer_malformed');
      expect((e as FormatError).details).toMatchObject({ level: 1, offset: 3 });
    }
    expect(() => decodeFlamebearer({ names: ['total'], levels: [[0, 1, 0]] })).toThrowError(/multiple of 4/);
  });
});

describe('toFlamebearerDiff', () => {
  it('reproduces the worked example of pkg/model/flamegraph_diff_test.go', () => {
    const left = profileFromFolded(`
      a;b 1
      a;c 2
    `);
    const right = profileFromFolded(`
      a;b 4
      a;c 8
    `);
    expect(toFlamebearerDiff(left, right)).toEqual({
      names: ['total', 'a', 'c', 'b'],
      levels: [
        [0, 3, 0, 0, 12, 0, 0],
        [0, 3, 0, 0, 12, 0, 1],
        [0, 1, 1, 0, 4, 4, 3, 0, 2, 2, 0, 8, 8, 2],
      ],
      numTicks: 15,
      maxSelf: 8,
      leftTicks: 3,
      rightTicks: 12,
    });
  });

  it('aligns nodes present on one side only and decodes back to both sides', () => {
    const left = profileFromFolded(`
      a;b 1
      a;c 2
    `);
    const right = profileFromFolded(`
      a;c 8
      a;d 4
      e 1
    `);
    const fb = toFlamebearerDiff(left, right);
    const { left: l, right: r } = decodeFlamebearerDiff(fb);
    expect(printFolded(l)).toBe(printFolded(left));
    expect(printFolded(r)).toBe(printFolded(right));
    // b exists only on the left: right side total 0 at the right x.
    expect(fb.names).toEqual(['total', 'e', 'a', 'd', 'c', 'b']);
    expect(fb.levels[2]).toEqual([0, 1, 1, 0, 0, 0, 5, 0, 2, 2, 0, 8, 8, 4, 0, 0, 0, 0, 4, 4, 3]);
  });

  it('keeps a node when either side reaches the threshold', () => {
    const left = profileFromFolded(`
      a;big 100
      a;small 1
    `);
    const right = profileFromFolded(`
      a;big 1
      a;small 50
      a;tiny 1
    `);
    // Nodes incl. root: max(L,R) = total 152, a 152, big 100, small 50, tiny 1 -> maxNodes 4: threshold 50.
    const { left: l, right: r } = decodeFlamebearerDiff(toFlamebearerDiff(left, right, { maxNodes: 4 }));
    expect(printFolded(l)).toBe(
      dedent(`
      a;big 100
      a;small 1
    `),
    );
    expect(printFolded(r)).toBe(
      dedent(`
      a;big 1
      a;other 1
      a;small 50
    `),
    );
  });

  it('rejects negative values with a coded error', () => {
    const left = profileFromFolded('a -1');
    expect(() => toFlamebearerDiff(left, profileFromFolded('a 1'))).toThrowError(
      expect.objectContaining({ code: 'negative_value' }),
    );
  });
});

describe('flamebearer properties on random profiles', () => {
  // Small alphabet so names repeat at many depths and siblings collide often.
  function randomFolded(seed: number, lines: number): string {
    let s = seed;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
    const out: string[] = [];
    for (let i = 0; i < lines; i++) {
      const depth = 1 + Math.floor(rand() * 6);
      const frames = Array.from({ length: depth }, () => 'abcdefg'[Math.floor(rand() * 7)]);
      out.push(`${frames.join(';')} ${1 + Math.floor(rand() * 20)}`);
    }
    return out.join('\n');
  }

  it('decodes back to the same stacks, and truncation conserves the total', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const p = profileFromFolded(randomFolded(seed, 40));
      const fb = toFlamebearer(p);
      expect(printFolded(decodeFlamebearer(fb)), `seed ${seed}`).toBe(printFolded(p));
      for (const maxNodes of [1, 3, 10]) {
        const small = toFlamebearer(p, { maxNodes });
        expect(small.numTicks).toBe(fb.numTicks);
        const back = decodeFlamebearer(small);
        let sum = 0;
        for (let i = 0; i < back.samples.length; i++) sum += back.samples.value[i]!;
        expect(sum, `seed ${seed} maxNodes ${maxNodes}`).toBe(fb.numTicks);
        expect(printFolded(back)).toBe(
          printFolded(callTreeToProfile(truncateTree(buildCallTree(p), maxNodes), p.type)),
        );
      }
    }
  });

  it('diff decodes back to both sides', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const left = profileFromFolded(randomFolded(seed, 30));
      const right = profileFromFolded(randomFolded(seed + 1000, 30));
      const { left: l, right: r } = decodeFlamebearerDiff(toFlamebearerDiff(left, right));
      expect(printFolded(l), `seed ${seed}`).toBe(printFolded(left));
      expect(printFolded(r), `seed ${seed}`).toBe(printFolded(right));
    }
  });
});
