import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../builder.ts';
import { makeProfileType } from '../model.ts';
import { dedent, printFolded, profileFromFolded } from '../testing/pictures.ts';
import { mergeProfiles } from './merge.ts';

describe('mergeProfiles', () => {
  it('sums stacks by content across profiles with different tables', () => {
    const a = profileFromFolded('x;y 1\nx;z 2');
    const b = profileFromFolded('q 5\nx;y 10');
    const before = printFolded(a);
    const m = mergeProfiles([a, b]);
    expect(printFolded(m)).toBe(
      dedent(`
        q 5
        x;y 11
        x;z 2
      `),
    );
    expect(m.samples.length).toBe(3);
    expect(printFolded(a)).toBe(before);
  });

  it('keeps label sets apart and spans the time windows', () => {
    const t = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
    const mk = (timeNs: number, region: string) => {
      const b = new ProfileBuilder([t], { timeNs, durationNs: 10, period: 7 });
      b.sample(b.stackOf([b.frame('f', 'f.py', 3)]), [2], b.labelSet([{ name: 'region', value: region }]));
      return b.build()[0]!;
    };
    const m = mergeProfiles([mk(100, 'eu'), mk(50, 'us'), mk(200, 'eu')]);
    expect(m.timeNs).toBe(50);
    expect(m.durationNs).toBe(160);
    expect(m.period).toBe(7);
    expect(m.frames.file).toEqual(['f.py']);
    const byRegion = new Map<string, number>();
    for (let i = 0; i < m.samples.length; i++) {
      const r = m.sampleLabelSets[m.samples.labelSet[i]!]![0]!.value;
      byRegion.set(r, (byRegion.get(r) ?? 0) + m.samples.value[i]!);
    }
    expect(Object.fromEntries(byRegion)).toEqual({ eu: 4, us: 2 });
  });

  it('refuses different profile types and an empty list with coded errors', () => {
    const cpu = profileFromFolded('a 1');
    const mem = profileFromFolded('a 1', makeProfileType('memory', 'inuse_space', 'bytes', 'space', 'bytes'));
    expect(() => mergeProfiles([cpu, mem])).toThrowError(
      expect.objectContaining({
        code: 'profile_type_mismatch',
        details: expect.objectContaining({ index: 1 }),
      }),
    );
    expect(() => mergeProfiles([])).toThrowError(expect.objectContaining({ code: 'merge_empty' }));
  });
});
