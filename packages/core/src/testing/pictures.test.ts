import { describe, expect, it } from 'vitest';
import { dedent, printFolded, printTree, profileFromFolded } from './pictures.ts';

describe('pictures', () => {
  it('reads folded lines with spaces in frames and labels, and prints them back', () => {
    const p = profileFromFolded(`
      # comment
      main.py <module>;work 3 {thread=1}
      main.py <module> 1
    `);
    expect(p.sampleLabelSets[p.samples.labelSet[0]!]).toEqual([{ name: 'thread', value: '1' }]);
    expect(printFolded(p)).toBe('main.py <module> 1\nmain.py <module>;work 3');
    expect(printTree(p)).toBe(
      dedent(`
        total 4
          main.py <module> 4 self 1
            work 3 self 3
      `),
    );
  });

  it('rejects a line without a value', () => {
    expect(() => profileFromFolded('a;b')).toThrowError(/line 1/);
  });
});
