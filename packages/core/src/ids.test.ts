// Content-hash ids are stored and shared by every replica: the lane-wise forms the write path uses
// must give exactly the bigint ids, and the ids themselves must never change.
import { describe, expect, it } from 'vitest';
import { functionId, functionIdLanes, idFromLanes, stackId, stackIdLanes } from './ids.ts';

const MASK32 = 0xffffffffn;

describe('stackIdLanes', () => {
  it('equals core stackId for roots, chains and ids with the top bit set', () => {
    const hi = new Uint32Array(1);
    const lo = new Uint32Array(1);
    const lanes = (p: bigint, f: bigint): bigint => {
      stackIdLanes(Number(p >> 32n), Number(p & MASK32), Number(f >> 32n), Number(f & MASK32), hi, lo, 0);
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

describe('functionIdLanes', () => {
  it('equals core functionId, writing at the given index', () => {
    const hi = new Uint32Array(3);
    const lo = new Uint32Array(3);
    for (const [name, file] of [
      ['main', 'a.go'],
      ['', ''],
      ['é😀', 'src/ünïcode.py'],
    ] as const) {
      functionIdLanes(name, file, hi, lo, 2);
      expect(idFromLanes(hi[2]!, lo[2]!)).toBe(functionId(name, file));
    }
    expect([hi[0], lo[0], hi[1], lo[1]]).toEqual([0, 0, 0, 0]);
  });
});

describe('ids are pinned', () => {
  it('stack ids of edge-case inputs', () => {
    const hex = (p: bigint, f: bigint): string => stackId(p, f).toString(16);
    expect(hex(0xffffffffffffffffn, 0xffffffffffffffffn)).toBe('401033ff9565c35a');
    expect(hex(0x8000000000000000n, 1n)).toBe('d0721aee52032102');
    expect(hex(0n, 0x7fffffffffffffffn)).toBe('21f7cafd3a88cd00');
    expect(hex(0n, 0n)).toBe('3031b8c2e8738a65');
    // Inputs are taken modulo 2^64.
    expect(hex(1n << 64n, 5n)).toBe(hex(0n, 5n));
  });

  it('a digest of 5000 function and stack ids (non-ASCII names, empty files, chains)', () => {
    let digest = 0n;
    let parent = 0n;
    for (let i = 0; i < 5000; i++) {
      const fn = functionId(
        `function_${i}\u00e9${'x'.repeat(i % 13)}`,
        i % 3 === 0 ? '' : `file_${i % 7}.py`,
      );
      const s = stackId(parent, fn);
      digest = (digest * 31n + fn + s) & ((1n << 64n) - 1n);
      parent = i % 50 === 0 ? 0n : s;
    }
    expect(digest.toString(16)).toBe('aeec5f8b16177c8f');
  });
});
