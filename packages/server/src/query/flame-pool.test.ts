import { importFolded, toFlamebearer, toFlamebearerDiff } from '@hotpath/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FlamePool } from './flame-pool.ts';

const profileOf = (n: number, salt: number) =>
  importFolded(
    new TextEncoder().encode(
      Array.from(
        { length: n },
        (_, i) => `main;mod${i % 40};fn${(i * salt) % 997};leaf${i} ${1 + (i % 13)}`,
      ).join('\n'),
    ),
  ).profiles[0]!;

const pool = new FlamePool(1);
afterAll(async () => pool.close());

describe('FlamePool', () => {
  it('a worker builds the same flame graph and diff as the in-process transforms', async () => {
    const a = profileOf(5000, 7);
    const b = profileOf(4000, 11);
    expect(await pool.flamebearer(a, 300)).toEqual(toFlamebearer(a, { maxNodes: 300 }));
    expect(await pool.diff(a, b, 300)).toEqual(toFlamebearerDiff(a, b, { maxNodes: 300 }));
    expect(pool.builtOnWorkers).toBe(2);
  });
});
