import { describe, expect, it } from 'vitest';
import { IdTable, halvesOf } from './id-table.ts';

describe('IdTable', () => {
  it('interns 64-bit ids to dense indexes across growth, and gives them back', () => {
    const t = new IdTable(4);
    const ids = Array.from(
      { length: 5000 },
      (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn,
    );
    ids.push(0xffffffffffffffffn, 0x8000000000000000n, 1n);
    ids.forEach((id, i) => expect(t.intern(id)).toBe(i));
    ids.forEach((id, i) => {
      expect(t.get(id)).toBe(i);
      expect(t.intern(id)).toBe(i);
      expect(t.idAt(i)).toBe(id);
    });
    expect(t.size).toBe(ids.length);
    expect(t.get(0x1234n)).toBe(-1);
  });

  it('works on BigUint64Array halves without BigInts', () => {
    const t = new IdTable();
    const ids = BigUint64Array.from([5n, 0xfedcba9876543210n, 5n]);
    expect([...t.internAll(ids)]).toEqual([0, 1, 0]);
    expect([...t.getAll(BigUint64Array.from([0xfedcba9876543210n, 7n]))]).toEqual([1, -1]);
    const out = new BigUint64Array(2);
    t.writeId(1, halvesOf(out), 0);
    t.writeId(0, halvesOf(out), 1);
    expect([...out]).toEqual([0xfedcba9876543210n, 5n]);
  });
});
