import { describe, expect, it } from 'vitest';
import { getLabel } from '../model.ts';
import { dedent, printFolded, printTree, profileFromFolded } from '../testing/pictures.ts';
import { collapseDirectRecursion, filterByLabels, focusSubtree, invertProfile, sandwich } from './views.ts';

describe('sandwich', () => {
  const p = profileFromFolded(`
    main;handle;parse;lex 6
    main;handle;parse 2
    main;batch;parse 3
    main;batch;write 4
  `);

  it('gives callers inverted under the function and callees below it', () => {
    const { callers, callees } = sandwich(p, 'parse');
    expect(printTree(callers)).toBe(
      dedent(`
        total 11
          parse 11
            batch 3
              main 3 self 3
            handle 8
              main 8 self 8
      `),
    );
    expect(printTree(callees)).toBe(
      dedent(`
        total 11
          parse 11 self 5
            lex 6 self 6
      `),
    );
  });

  it('counts every occurrence of a recursive function, as Grafana does', () => {
    const { callers, callees } = sandwich(profileFromFolded('a;f;g;f;h 1'), 'f');
    expect(printFolded(callers)).toBe('f;a 1\nf;g;f;a 1');
    expect(printFolded(callees)).toBe('f;g;f;h 1\nf;h 1');
  });

  it('gives empty halves for an unknown function', () => {
    const { callers, callees } = sandwich(p, 'nope');
    expect(callers.samples.length + callees.samples.length).toBe(0);
  });
});

describe('focusSubtree', () => {
  it('keeps stacks under the path and roots them at its last name', () => {
    const p = profileFromFolded(`
      main;parse;lex 3
      main;parse 1
      main;eval 5
      parse;x 7
      main 2
    `);
    expect(printFolded(focusSubtree(p, ['main', 'parse']))).toBe('parse 1\nparse;lex 3');
    expect(printFolded(focusSubtree(p, ['parse']))).toBe('parse;x 7');
    expect(focusSubtree(p, [])).toBe(p);
  });
});

describe('filterByLabels', () => {
  it('keeps the samples whose labels pass, sharing the tables', () => {
    const p = profileFromFolded(`
      a;b 1 {region=eu,vehicle=car}
      a;c 2 {region=us}
      a;b 4 {region=eu,vehicle=bike}
      a 8
    `);
    const eu = filterByLabels(p, (l) => getLabel(l, 'region') === 'eu');
    expect(printFolded(eu)).toBe('a;b 5');
    expect(eu.stacks).toBe(p.stacks);
    expect(printFolded(filterByLabels(p, (l) => l.length === 0))).toBe('a 8');
    expect(p.samples.length).toBe(4);
  });
});

describe('invertProfile', () => {
  it('puts leaves at the root', () => {
    const p = profileFromFolded('a;b;c 1\nx;c 2\na;b 4');
    expect(printTree(invertProfile(p))).toBe(
      dedent(`
        total 7
          b 4
            a 4 self 4
          c 3
            b 1
              a 1 self 1
            x 2 self 2
      `),
    );
  });
});

describe('collapseDirectRecursion', () => {
  it('merges runs of the same frame', () => {
    const p = profileFromFolded('a;f;f;f;g 1\na;f;g;f 2\na;a 3');
    expect(printFolded(collapseDirectRecursion(p))).toBe('a 3\na;f;g 1\na;f;g;f 2');
    expect(printFolded(collapseDirectRecursion(p, 'f'))).toBe('a;a 3\na;f;g 1\na;f;g;f 2');
  });
});
