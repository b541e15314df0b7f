// The write path's lane-wise stack hash must give exactly core's stack ids (they are stored and
// shared by every replica).
import { describe, expect, it } from 'vitest';
import { functionId, stackId } from '@hotpath/core';
import { stackIdLanes } from './normalize.ts';

describe('stackIdLanes', () => {
  it('equals core stackId for roots, chains and ids with the top bit set', () => {
    const hi = new Uint32Array(1);
    const lo = new Uint32Array(1);
    const lanes = (p: bigint, f: bigint): bigint => {
      stackIdLanes(Number(p >> 32n), Number(p & 0xffffffffn), Number(f >> 32n), Number(f & 0xffffffffn), hi, lo, 0);
      return (BigInt(hi[0]!) << 32n) | BigInt(lo[0]!);
    };
    let parent = 0n;
    for (let i = 0; i < 2000; i++) {
      const fn = functionId(`function_${i}`, `file_${i % 7}.py`);
      expect(lanes(parent, fn)).toBe(stackId(parent, fn));
      parent = i % 50 === 0 ? 0n : stackId(parent, fn);
    }
    for (const [p, f] of [
      [0xffffffffffffffffn, 0xffffffffffffffffn],
      [0x8000000000000000n, 1n],
      [0n, 0x7fffffffffffffffn],
    ] as const) {
      expect(lanes(p, f)).toBe(stackId(p, f));
    }
  });
});
