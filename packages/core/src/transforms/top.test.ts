import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../builder.ts';
import { makeProfileType } from '../model.ts';
import { profileFromFolded } from '../testing/pictures.ts';
import { diffProfiles, topTable } from './top.ts';

describe('topTable', () => {
  it('sorts by self and counts a recursive function once per stack', () => {
    const p = profileFromFolded(`
      main;fib;fib;fib 10
      main;fib 2
      main;io 5
      main 1
    `);
    expect(topTable(p).map((r) => [r.name, r.self, r.total])).toEqual([
      ['fib', 12, 12],
      ['io', 5, 5],
      ['main', 1, 18],
    ]);
  });

  it('keeps functions with the same name in different files apart', () => {
    const b = new ProfileBuilder([makeProfileType('process_cpu', 'samples', 'count')]);
    b.sample(b.stackOf([b.frame('run', 'a.py', 1)]), [3]);
    b.sample(b.stackOf([b.frame('run', 'b.py', 1)]), [4]);
    b.sample(b.stackOf([b.frame('run', 'b.py', 9)]), [1]);
    expect(topTable(b.build()[0]!)).toEqual([
      { name: 'run', file: 'b.py', self: 5, total: 5 },
      { name: 'run', file: 'a.py', self: 3, total: 3 },
    ]);
  });
});

describe('diffProfiles', () => {
  it('lists every function of either side by largest self change', () => {
    const left = profileFromFolded('main;a 10\nmain;b 5');
    const right = profileFromFolded('main;a 4\nmain;c 8');
    const d = diffProfiles(left, right);
    expect(d.leftTotal).toBe(15);
    expect(d.rightTotal).toBe(12);
    expect(d.functions.map((f) => [f.name, f.leftSelf, f.rightSelf, f.selfDelta, f.totalDelta])).toEqual([
      ['c', 0, 8, 8, 8],
      ['a', 10, 4, -6, -6],
      ['b', 5, 0, -5, -5],
      ['main', 0, 0, 0, -3],
    ]);
  });

  it('refuses profiles of different types', () => {
    const mem = profileFromFolded('a 1', makeProfileType('memory', 'inuse_space', 'bytes'));
    expect(() => diffProfiles(profileFromFolded('a 1'), mem)).toThrowError(
      expect.objectContaining({ code: 'profile_type_mismatch' }),
    );
  });
});

describe('topTable ties', () => {
  it('orders equal self by name, as go tool pprof -top does', () => {
    const p = profileFromFolded('m;zeta 5\nm;zeta;q 1\nm;alpha 5\nm;Beta 5');
    expect(topTable(p).map((r) => r.name)).toEqual(['Beta', 'alpha', 'zeta', 'q', 'm']);
  });
});
