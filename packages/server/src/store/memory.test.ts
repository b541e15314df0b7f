import { describe, expect, it } from 'vitest';
import { functionId, labelsFromRecord, stackId } from '@hotpath/core';
import { runStoreConformance } from './conformance.ts';
import { openMemoryStore } from './memory.ts';
import type { WriteBatch } from './types.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

/** A batch from folded lines `a;b;c value` for one series at one time. */
function folded(tenant: string, labels: Record<string, string>, timeMs: number, lines: string[]): WriteBatch {
  const functions = new Map<bigint, { id: bigint; name: string; file: string }>();
  const stacks = new Map<bigint, { id: bigint; parentId: bigint; functionId: bigint }>();
  const sums = new Map<bigint, number>();
  for (const line of lines) {
    const [path, value] = line.split(' ') as [string, string];
    let parent = 0n;
    for (const name of path.split(';')) {
      const fn = functionId(name, '');
      functions.set(fn, { id: fn, name, file: '' });
      const id = stackId(parent, fn);
      stacks.set(id, { id, parentId: parent, functionId: fn });
      parent = id;
    }
    sums.set(parent, (sums.get(parent) ?? 0) + Number(value));
  }
  return {
    profiles: [
      {
        tenant,
        labels: labelsFromRecord({ __profile_type__: CPU, __name__: 'process_cpu', ...labels }),
        timeMs,
        stackIds: BigUint64Array.from(sums.keys()),
        values: Float64Array.from(sums.values()),
      },
    ],
    functions: [...functions.values()],
    stacks: [...stacks.values()],
  };
}

describe('MemoryStore', () => {
  it('sums values per stack over the selected series and range', async () => {
    const store = await openMemoryStore();
    await store.append(folded('t', { service_name: 'a', region: 'eu' }, 1000, ['x;y 3', 'x 1']));
    await store.append(folded('t', { service_name: 'a', region: 'us' }, 2000, ['x;y 5']));
    await store.append(folded('t', { service_name: 'b' }, 2000, ['x;y 100']));
    await store.append(folded('other', { service_name: 'a' }, 2000, ['x;y 1000']));
    const xy = stackId(stackId(0n, functionId('x', '')), functionId('y', ''));
    const merged = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [{ name: 'service_name', op: '=', value: 'a' }],
      startMs: 0,
      endMs: 5000,
    });
    const got = new Map([...merged.stackIds].map((id, i) => [id, merged.values[i]]));
    expect(got.get(xy)).toBe(8);
    expect(got.size).toBe(2);
    const early = await store.mergeStacks({
      tenant: 't',
      profileTypeId: CPU,
      matchers: [],
      startMs: 0,
      endMs: 1500,
    });
    expect([...early.values].sort()).toEqual([1, 3]);
  });

  it('answers label names, values, series and profile types per tenant', async () => {
    const store = await openMemoryStore();
    await store.append(folded('t', { service_name: 'a', region: 'eu' }, 1000, ['x 1']));
    await store.append(folded('u', { service_name: 'z' }, 1000, ['x 1']));
    const q = { tenant: 't', selectors: [], startMs: 0, endMs: 2000 };
    expect(await store.labelNames(q)).toEqual(['__name__', '__profile_type__', 'region', 'service_name']);
    expect(await store.labelValues({ ...q, name: 'service_name' })).toEqual(['a']);
    expect(await store.profileTypes(q)).toEqual([CPU]);
    expect(await store.series({ ...q, startMs: 1500 })).toEqual([]);
    expect((await store.stats('t')).oldestProfileTimeMs).toBe(1000);
    expect((await store.stats('nobody')).dataIngested).toBe(false);
  });

  it('buckets time series into [t, t+step) and groups by label', async () => {
    const store = await openMemoryStore();
    await store.append(folded('t', { service_name: 'a', region: 'eu' }, 1000, ['x 1']));
    await store.append(folded('t', { service_name: 'a', region: 'eu' }, 10_000, ['x 2']));
    await store.append(folded('t', { service_name: 'a', region: 'eu' }, 10_001, ['x 4']));
    await store.append(folded('t', { service_name: 'a', region: 'us' }, 10_000, ['x 8']));
    const base = { tenant: 't', profileTypeId: CPU, matchers: [], startMs: 0, endMs: 20_000, stepMs: 10_000 };
    const sum = await store.timeSeries({ ...base, groupBy: ['region'], aggregation: 'sum' });
    expect(sum.map((s) => [s.labels, [...s.timestampsMs], [...s.values]])).toEqual([
      [[{ name: 'region', value: 'eu' }], [0, 10_000], [1, 6]],
      [[{ name: 'region', value: 'us' }], [10_000], [8]],
    ]);
    const avg = await store.timeSeries({ ...base, groupBy: [], aggregation: 'avg' });
    expect([...avg[0]!.values]).toEqual([1, (2 + 4 + 8) / 3]);
  });
});

runStoreConformance('memory', () => openMemoryStore(), { durable: false });
