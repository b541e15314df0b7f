// Test helpers for the read path: a memory store filled from folded lines, and Connect calls.
import { functionId, labelsFromRecord, stackId } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/app.ts';
import { Metrics } from '../src/metrics.ts';
import { openMemoryStore } from '../src/store/memory.ts';
import type { FunctionRecord, ProfileRecord, StackRecord, Store, WriteBatch } from '../src/store/types.ts';

export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
export const ALLOC = 'memory:alloc_objects:count:space:bytes';
/** 2026-05-25T15:00:00Z, a multiple of every timeline step up to 1 h. */
export const NOW = 1_779_721_200_000;
export const HOUR = 3_600_000;

export interface FoldedProfile {
  tenant?: string;
  type?: string;
  labels: Record<string, string>;
  timeMs: number;
  /** `a;b;c value` lines. */
  folded: string[];
  /** Every sample of the profile was taken in this span (16 hex digits). */
  span?: string;
}

/** A WriteBatch exactly as the write path makes it: content-hash ids from core's ids.ts. */
export function batchOf(profiles: FoldedProfile[]): WriteBatch {
  const functions = new Map<bigint, FunctionRecord>();
  const stacks = new Map<bigint, StackRecord>();
  const records = profiles.map((p) => {
    const sums = new Map<bigint, number>();
    for (const line of p.folded) {
      const sp = line.lastIndexOf(' ');
      let parent = 0n;
      for (const name of line.slice(0, sp).split(';')) {
        const fn = functionId(name, '');
        functions.set(fn, { id: fn, name, file: '' });
        const id = stackId(parent, fn);
        stacks.set(id, { id, parentId: parent, functionId: fn });
        parent = id;
      }
      sums.set(parent, (sums.get(parent) ?? 0) + Number(line.slice(sp + 1)));
    }
    const type = p.type ?? CPU;
    return {
      tenant: p.tenant ?? 'anonymous',
      labels: labelsFromRecord({ __name__: type.split(':')[0]!, __profile_type__: type, ...p.labels }),
      timeMs: p.timeMs,
      stackIds: BigUint64Array.from(sums.keys()),
      values: Float64Array.from(sums.values()),
      ...(p.span === undefined ? {} : spanColumns(BigInt(`0x${p.span}`), sums)),
    };
  });
  return { profiles: records, functions: [...functions.values()], stacks: [...stacks.values()] };
}

function spanColumns(spanId: bigint, sums: Map<bigint, number>): Pick<ProfileRecord, 'spanIds' | 'spans'> {
  const values = [...sums.values()];
  return {
    spanIds: new BigUint64Array(sums.size).fill(spanId),
    spans: [
      { spanId, name: '', traceId: '', total: values.reduce((a, b) => a + b, 0), samples: values.length },
    ],
  };
}

export async function serverWith(
  profiles: FoldedProfile[],
): Promise<{ app: FastifyInstance; store: Store; metrics: Metrics }> {
  const store = await openMemoryStore();
  if (profiles.length > 0) await store.append(batchOf(profiles));
  const metrics = new Metrics();
  const app = await buildServer({ store, metrics, now: () => NOW, logger: false });
  return { app, store, metrics };
}

export async function connectJson(
  app: FastifyInstance,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: `/querier.v1.QuerierService/${method}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.statusCode,
    body: res.body === '' ? undefined : (JSON.parse(res.body) as any),
    headers: res.headers,
  };
}
