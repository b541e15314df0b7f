import { describe, expect, it } from 'vitest';
import { profileFromFolded } from '../testing/pictures.ts';
import { checkGate, compareRuns, functionOf, parseGateRules } from './regression.ts';

const GATE = { minSamples: 0, minZ: 3 };

describe('compareRuns', () => {
  it('compares shares, so a uniformly faster machine changes nothing', () => {
    const base = profileFromFolded('main;find 50\nmain;check 30\nmain;io 20');
    const head = profileFromFolded('main;find 100\nmain;check 60\nmain;io 40');
    const cmp = compareRuns([base], [head]);
    expect(cmp.functions.every((f) => f.totalDelta === 0 && f.totalGrowth === 0)).toBe(true);
  });

  it('sorts by the largest share change and reports growth of the total share', () => {
    // check 30 -> 60 (twice as slow): its share goes 30/100 -> 60/130.
    const cmp = compareRuns(
      [profileFromFolded('main;find;check 30\nmain;find 20\nmain;io 50')],
      [profileFromFolded('main;find;check 60\nmain;find 20\nmain;io 50')],
    );
    expect(cmp.functions.map((f) => f.name)).toEqual(['check', 'find', 'io', 'main']);
    const check = cmp.functions[0]!;
    expect(check.base.totalShare).toBeCloseTo(0.3);
    expect(check.head.totalShare).toBeCloseTo(60 / 130);
    expect(check.totalGrowth).toBeCloseTo(60 / 130 / 0.3 - 1);
    expect(cmp.functions.find((f) => f.name === 'main')!.totalGrowth).toBe(0);
  });

  it('joins the lines of one Python function into one row', () => {
    expect(functionOf('find (lib/utility.py:71)')).toBe('find (lib/utility.py)');
    expect(functionOf('<module> (x.py)')).toBe('<module> (x.py)');
    const cmp = compareRuns(
      [profileFromFolded('main (m.py:1);find (u.py:3) 5\nmain (m.py:1);find (u.py:4) 5')],
      [profileFromFolded('main (m.py:2);find (u.py:3) 10')],
    );
    expect(cmp.functions.map((f) => [f.name, f.totalDelta])).toEqual([
      ['find (u.py)', 0],
      ['main (m.py)', 0],
    ]);
  });

  it('takes the run-to-run spread of repeated runs as the noise', () => {
    const runs = (...checks: number[]) =>
      checks.map((c) => profileFromFolded(`main;check ${c * 1000}\nmain;io ${(100 - c) * 1000}`));
    // Noisy base (20..40 %) and a head at 36 %: within the spread. A steady base makes it significant.
    const noisy = compareRuns(runs(20, 40, 25, 35), runs(36, 36));
    const steady = compareRuns(runs(30, 30.5, 29.5, 30), runs(36, 36));
    const z = (c: typeof noisy) => c.functions.find((f) => f.name === 'check')!.z;
    expect(z(noisy)).toBeLessThan(3);
    expect(z(steady)).toBeGreaterThan(3);
  });
});

describe('checkGate', () => {
  const slowCheck = compareRuns(
    [profileFromFolded('main;check 3000\nmain;find 7000')],
    [profileFromFolded('main;check 4000\nmain;find 7000')],
  );

  it('fails the function whose share grew past the limit', () => {
    const v = checkGate(slowCheck, parseGateRules('10%')!, GATE);
    expect(v.map((x) => [x.change.name, x.rule.maxGrowth])).toEqual([['check', 0.1]]);
    expect(checkGate(slowCheck, parseGateRules('40%')!, GATE)).toEqual([]);
  });

  it('holds a named function to its own rule only', () => {
    expect(checkGate(slowCheck, parseGateRules('10%,check=50%')!, GATE)).toEqual([]);
    expect(checkGate(slowCheck, parseGateRules('50%,check=5%')!, GATE).map((x) => x.change.name)).toEqual([
      'check',
    ]);
  });

  it('ignores functions below the minimum samples and changes within the noise', () => {
    expect(checkGate(slowCheck, parseGateRules('10%')!, { minSamples: 5000, minZ: 3 })).toEqual([]);
    expect(checkGate(slowCheck, parseGateRules('10%')!, { minSamples: 0, minZ: 1e6 })).toEqual([]);
  });

  it('applies rules without a name only to functions in scope', () => {
    const inLib = (name: string) => name.startsWith('find');
    expect(checkGate(slowCheck, parseGateRules('10%')!, { ...GATE, scope: inLib })).toEqual([]);
    expect(
      checkGate(slowCheck, parseGateRules('10%,check=10%')!, { ...GATE, scope: inLib }).map(
        (x) => x.change.name,
      ),
    ).toEqual(['check']);
  });

  it('parses rules', () => {
    expect(parseGateRules('10%')).toEqual([{ maxGrowth: 0.1 }]);
    expect(parseGateRules('0.25, find_nearest_vehicle=5%')).toEqual([
      { maxGrowth: 0.25 },
      { fn: 'find_nearest_vehicle', maxGrowth: 0.05 },
    ]);
    expect(parseGateRules('ten')).toBeNull();
    expect(parseGateRules('=5%')).toBeNull();
    expect(parseGateRules('')).toBeNull();
  });
});
