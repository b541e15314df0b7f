import { describe, expect, it } from 'vitest';
import { functionId, labelsFromRecord, stackId, stackNames, totalValue } from '@hotpath/core';
import { openMemoryStore } from '../store/memory.ts';
import type { Store } from '../store/types.ts';
import { UNKNOWN_FRAME, profileFromMerged, profileTypeOf, resolverFor, topSeries } from './readpath.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

/** Folded lines of a profile, sorted, e.g. "a;b 3". */
function foldedOf(p: Awaited<ReturnType<typeof profileFromMerged>>): string[] {
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const key = stackNames(p, p.samples.stack[i]!).join(';');
    out.set(key, (out.get(key) ?? 0) + p.samples.value[i]!);
  }
  return [...out].map(([k, v]) => `${k} ${v}`).sort();
}

/** Counts dictionary calls on a real store. */
function counting(store: Store): { store: Store; calls: { stacks: number; functions: number } } {
  const calls = { stacks: 0, functions: 0 };
  const wrapped = Object.create(store) as Store;
  wrapped.getStacks = (ids) => {
    calls.stacks++;
    return store.getStacks(ids);
  };
  wrapped.getFunctions = (ids) => {
    calls.functions++;
    return store.getFunctions(ids);
  };
  return { store: wrapped, calls };
}

describe('profileFromMerged', () => {
  it('walks parents (fetched round by round), names frames by function, and caches', async () => {
    const base = await openMemoryStore();
    // A 50-frame chain: resolving its leaf needs 50 rounds of parent lookups.
    const fns = Array.from({ length: 50 }, (_, i) => ({
      id: functionId(`f${i}`, 'x.py'),
      name: `f${i}`,
      file: 'x.py',
    }));
    const ids: bigint[] = [];
    const stacks = fns.map((f, i) => {
      const parentId = i === 0 ? 0n : ids[i - 1]!;
      ids.push(stackId(parentId, f.id));
      return { id: ids[i]!, parentId, functionId: f.id };
    });
    // Two functions with one name in different files share one frame.
    const other = { id: functionId('f1', 'y.py'), name: 'f1', file: 'y.py' };
    const otherStack = stackId(ids[0]!, other.id);
    await base.append({
      profiles: [
        {
          tenant: 't',
          labels: labelsFromRecord({ __profile_type__: CPU, service_name: 's' }),
          timeMs: 1,
          stackIds: BigUint64Array.from([ids[49]!, ids[1]!, otherStack]),
          values: Float64Array.from([5, 2, 3]),
        },
      ],
      functions: [...fns, other],
      stacks: [...stacks, { id: otherStack, parentId: ids[0]!, functionId: other.id }],
    });
    const { store, calls } = counting(base);
    const merged = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: 0,
      endMs: 10,
    });
    const p = await profileFromMerged(store, profileTypeOf(CPU), merged);
    expect(foldedOf(p)).toEqual(['f0;f1 5', `${fns.map((f) => f.name).join(';')} 5`]);
    expect(totalValue(p)).toBe(10);
    expect(p.frames.name.filter((n) => n === 'f1')).toHaveLength(1);
    // Round 1: the three leaves; round 2: f48 and f0 (parents); then f47 … f2 one per round.
    expect(calls.stacks).toBe(48);
    expect(calls.functions).toBe(1);
    // Second query: everything comes from the cache.
    await profileFromMerged(store, profileTypeOf(CPU), merged);
    expect(calls.stacks).toBe(48);
    expect(calls.functions).toBe(1);
    expect(resolverFor(store).size).toBeGreaterThanOrEqual(51);
  });

  it('keeps totals when the dictionary lacks a stack or a function', async () => {
    const store = await openMemoryStore();
    const known = functionId('known', '');
    const lost = functionId('lost', '');
    const s1 = stackId(0n, known);
    const s2 = stackId(s1, lost);
    const orphan = 0xfedcba9876543210n; // top bit set, never written to the dictionary
    await store.append({
      profiles: [
        {
          tenant: 't',
          labels: labelsFromRecord({ __profile_type__: CPU, service_name: 's' }),
          timeMs: 1,
          stackIds: BigUint64Array.from([s2, orphan]),
          values: Float64Array.from([4, 6]),
        },
      ],
      functions: [{ id: known, name: 'known', file: '' }],
      stacks: [
        { id: s1, parentId: 0n, functionId: known },
        { id: s2, parentId: s1, functionId: lost },
      ],
    });
    const merged = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: 0,
      endMs: 10,
    });
    const p = await profileFromMerged(store, profileTypeOf(CPU), merged);
    expect(foldedOf(p)).toEqual([`${UNKNOWN_FRAME} 6`, `known;${UNKNOWN_FRAME} 4`]);
  });
});

describe('topSeries', () => {
  it('keeps the N series with the largest totals, in their original order', () => {
    const s = (name: string, values: number[]) => ({
      labels: [{ name: 'x', value: name }],
      timestampsMs: Float64Array.from(values, (_, i) => i),
      values: Float64Array.from(values),
    });
    const all = [s('a', [1, 1]), s('b', [5]), s('c', [3, 1])];
    expect(topSeries(all, 2).map((x) => x.labels[0]!.value)).toEqual(['b', 'c']);
    expect(topSeries(all, 0)).toHaveLength(3);
  });
});
