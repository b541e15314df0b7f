import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from './builder.ts';
import { functionId, stackId } from './ids.ts';
import { makeProfileType, parseProfileTypeId, stackNames, totalValue } from './model.ts';

describe('ProfileBuilder', () => {
  it('interns frames and stacks and keeps one value column per type', () => {
    const b = new ProfileBuilder([
      makeProfileType('memory', 'alloc_objects', 'count'),
      makeProfileType('memory', 'alloc_space', 'bytes'),
    ]);
    const a = b.frame('a');
    const s1 = b.stackOf([a, b.frame('b')]);
    const s2 = b.stackOf([b.frame('a'), b.frame('b')]);
    expect(s1).toBe(s2);
    b.sample(s1, [1, 100]);
    b.sample(b.stackOf([a]), [2, 200]);
    const [objects, space] = b.build();
    expect(totalValue(objects!)).toBe(3);
    expect(totalValue(space!)).toBe(300);
    expect(stackNames(objects!, s1)).toEqual(['a', 'b']);
    expect(objects!.stacks).toBe(space!.stacks);
  });
});

describe('ids', () => {
  it('are stable and distinguish boundaries', () => {
    expect(functionId('main', 'a.go')).toBe(functionId('main', 'a.go'));
    expect(functionId('ab', 'c')).not.toBe(functionId('a', 'bc'));
    const f = functionId('f', '');
    expect(stackId(0n, f)).not.toBe(stackId(stackId(0n, f), f));
    // Pinned: ids are persisted, so changing the hash is a storage migration.
    expect(functionId('x', 'y').toString(16)).toBe('f0d7a11bc3ab40cb');
    expect(stackId(0n, functionId('x', 'y')).toString(16)).toBe('6a97fa78ae4abb57');
  });
});

describe('profile type ids', () => {
  it('parses 5 and 6 parts and rejects the rest', () => {
    expect(parseProfileTypeId('process_cpu:cpu:nanoseconds:cpu:nanoseconds')?.sampleType).toBe('cpu');
    expect(parseProfileTypeId('memory:alloc_in_new_tlab_bytes:bytes::')?.periodType).toBe('');
    expect(parseProfileTypeId('a:b:c:d:e:delta')?.id).toBe('a:b:c:d:e');
    expect(parseProfileTypeId('cpu')).toBeNull();
  });
});
