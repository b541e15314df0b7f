// The read path: select series → the store sums values per stack id (engine side) → stack ids are
// resolved to frame chains through a per-store cache (parent-pointer walk, missing parents fetched in
// batches) → one Profile (struct-of-arrays) → core's flamebearer transforms, on worker threads
// (flame-pool.ts). No per-sample objects; long loops yield to the event loop and check the deadline.

import {
  clampSampleValue,
  parseProfileTypeId,
  type Flamebearer,
  type FlamebearerDiff,
  type Profile,
  type ProfileType,
} from '@hotpath/core';
import type { MergedStacks, ProfileQuery, SeriesPoints, Store, TimeSeriesQuery } from '../store/types.ts';
import { NO_DEADLINE, type Deadline } from './budget.ts';
import { flamePool } from './flame-pool.ts';
import { IdTable, halvesOf } from '../store/id-table.ts';

/** Frame name used when the dictionary lacks a stack or function (totals stay conserved). */
export const UNKNOWN_FRAME = '[unknown]';
const RESOLVED = 1;
const MISSING = 2;
const QUEUED = 3;
/** Lookups per store call, so one query never sends an unbounded IN list. */
const BATCH = 50_000;
/** The cache is dropped when it grows past this many stacks (~40 bytes each). */
const CACHE_LIMIT = 8_000_000;
/** Longer parent chains than this are cut (the write path truncates stacks at 1,000 frames). */
const MAX_CHAIN = 10_000;
/** Samples between two event-loop turns in the profile build (~10-30 ms of work). */
const SAMPLES_PER_TURN = 1 << 16;

/**
 * Stack id → (parent node, function) cache for one store. Content-hashed ids never change
 * meaning, so entries stay valid for the life of the process.
 */
export class StackResolver {
  private ids = new IdTable(1 << 14);
  private parent = new Int32Array(1 << 14);
  private fn = new Int32Array(1 << 14);
  private state = new Uint8Array(1 << 14);
  private fnIds = new IdTable(1 << 12);
  private fnNames: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: Store) {}

  get size(): number {
    return this.ids.size;
  }

  parentOf(i: number): number {
    return this.parent[i]!;
  }

  /** Function index of node `i` (-1 when the stack is missing from the dictionary). */
  fnOf(i: number): number {
    return this.fn[i]!;
  }

  /** Number of function indexes handed out so far. */
  get fnCount(): number {
    return this.fnNames.length;
  }

  fnName(f: number): string {
    return this.fnNames[f] ?? UNKNOWN_FRAME;
  }

  /** Node indexes for `stackIds` (every id gets one; unknown stacks become an `[unknown]` root). */
  resolve(stackIds: BigUint64Array): Promise<Int32Array> {
    // Serialised: two queries never fetch the same ids concurrently or see half-filled entries.
    const run = this.queue.then(() =>
      this.resolveNow(stackIds).catch((e: unknown) => {
        this.reset(); // a failed store call leaves entries half-filled
        throw e;
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private ensure(n: number): void {
    if (n <= this.parent.length) return;
    let size = this.parent.length;
    while (size < n) size *= 2;
    const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(a);
      return next;
    };
    this.parent = grow(this.parent, (k) => new Int32Array(k));
    this.fn = grow(this.fn, (k) => new Int32Array(k));
    this.state = grow(this.state, (k) => new Uint8Array(k));
  }

  private async resolveNow(stackIds: BigUint64Array): Promise<Int32Array> {
    if (this.ids.size + stackIds.length > CACHE_LIMIT) this.reset();
    const nodes = this.ids.internAll(stackIds);
    this.ensure(this.ids.size);
    let pending: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (this.state[n] === 0 || this.state[n] === QUEUED) {
        this.state[n] = QUEUED;
        pending.push(n);
      }
    }
    const pendingFns: bigint[] = [];
    while (pending.length > 0) {
      const next: number[] = [];
      for (let b = 0; b < pending.length; b += BATCH) {
        // Between batches other requests get a turn (the store call alone may not yield to I/O).
        if (b > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const chunk = pending.slice(b, b + BATCH);
        const chunkIds = chunk.map((n) => this.ids.idAt(n));
        const found = await this.store.getStacks(chunkIds);
        // Parent and function ids go through typed arrays so they are interned from their uint32
        // halves: no BigInt arithmetic per stack on this (cold) path.
        const parents = new BigUint64Array(chunk.length);
        const fns = new BigUint64Array(chunk.length);
        const present = new Uint8Array(chunk.length);
        for (let j = 0; j < chunk.length; j++) {
          const rec = found.get(chunkIds[j]!);
          if (rec === undefined) continue;
          parents[j] = rec.parentId;
          fns[j] = rec.functionId;
          present[j] = 1;
        }
        const ph = halvesOf(parents);
        const fh = halvesOf(fns);
        for (let j = 0; j < chunk.length; j++) {
          const n = chunk[j]!;
          if (this.state[n] !== QUEUED) continue;
          if (present[j] === 0) {
            this.state[n] = MISSING;
            this.parent[n] = -1;
            this.fn[n] = -1;
            continue;
          }
          const fnBefore = this.fnIds.size;
          const f = this.fnIds.internHalves(fh[2 * j + 1]!, fh[2 * j]!);
          if (f === fnBefore) {
            this.fnNames.push(UNKNOWN_FRAME);
            pendingFns.push(fns[j]!);
          }
          this.fn[n] = f;
          const hi = ph[2 * j + 1]!;
          const lo = ph[2 * j]!;
          if (hi === 0 && lo === 0) this.parent[n] = -1;
          else {
            const p = this.ids.internHalves(hi, lo);
            this.ensure(this.ids.size);
            this.parent[n] = p;
            if (this.state[p] === 0) {
              this.state[p] = QUEUED;
              next.push(p);
            }
          }
          this.state[n] = RESOLVED;
        }
      }
      pending = next;
    }
    for (let b = 0; b < pendingFns.length; b += BATCH) {
      const chunk = pendingFns.slice(b, b + BATCH);
      const found = await this.store.getFunctions(chunk);
      for (const id of chunk) {
        const f = found.get(id);
        this.fnNames[this.fnIds.get(id)] = f === undefined ? UNKNOWN_FRAME : f.name;
      }
    }
    return nodes;
  }

  private reset(): void {
    this.ids = new IdTable(1 << 14);
    this.parent = new Int32Array(1 << 14);
    this.fn = new Int32Array(1 << 14);
    this.state = new Uint8Array(1 << 14);
    this.fnIds = new IdTable(1 << 12);
    this.fnNames = [];
  }
}

const resolvers = new WeakMap<Store, StackResolver>();

export function resolverFor(store: Store): StackResolver {
  let r = resolvers.get(store);
  if (r === undefined) {
    r = new StackResolver(store);
    resolvers.set(store, r);
  }
  return r;
}

/**
 * Builds one Profile (frames = function names) from merged per-stack sums. The stack table is
 * written directly from the resolver's prefix tree rather than through ProfileBuilder: the store's
 * dictionary already interns (parent, function), and at 3 M stacks the builder's per-parent maps
 * cost seconds. Only nodes reached by the merged stacks are copied, parents before children.
 */
export async function profileFromMerged(
  store: Store,
  type: ProfileType,
  merged: MergedStacks,
  deadline: Deadline = NO_DEADLINE,
): Promise<Profile> {
  const resolver = resolverFor(store);
  const nodes = await resolver.resolve(merged.stackIds);
  deadline.check();
  // Resolver node → profile stack index (-2 = not copied yet).
  const memo = new Int32Array(resolver.size).fill(-2);
  const stackParent = new Int32Array(resolver.size);
  const stackFrame = new Int32Array(resolver.size);
  let stackCount = 0;
  const frameNames: string[] = [];
  const frameOfName = new Map<string, number>();
  // Function index → frame (-1 = not seen): functions with the same name share one frame.
  const frameOfFn = new Int32Array(resolver.fnCount).fill(-1);
  const path: number[] = [];
  const sampleStack = new Int32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    if (i > 0 && i % SAMPLES_PER_TURN === 0) await deadline.pause();
    let n = nodes[i]!;
    path.length = 0;
    while (n !== -1 && memo[n] === -2) {
      path.push(n);
      n = resolver.parentOf(n);
      // A corrupt dictionary (a parent cycle) must not hang the server: cut the chain there.
      if (path.length > MAX_CHAIN) n = -1;
    }
    let stack = n === -1 ? -1 : memo[n]!;
    for (let k = path.length - 1; k >= 0; k--) {
      const node = path[k]!;
      const f = resolver.fnOf(node);
      let frame = f === -1 ? -1 : frameOfFn[f]!;
      if (frame === -1) {
        const name = resolver.fnName(f);
        frame = frameOfName.get(name) ?? -1;
        if (frame === -1) {
          frame = frameNames.length;
          frameNames.push(name);
          frameOfName.set(name, frame);
        }
        if (f !== -1) frameOfFn[f] = frame;
      }
      stackParent[stackCount] = stack;
      stackFrame[stackCount] = frame;
      stack = stackCount++;
      memo[node] = stack;
    }
    sampleStack[i] = stack;
  }
  return {
    type,
    timeNs: 0,
    durationNs: 0,
    period: 0,
    frames: {
      length: frameNames.length,
      name: frameNames,
      file: frameNames.map(() => ''),
      line: new Int32Array(frameNames.length),
    },
    stacks: {
      length: stackCount,
      parent: stackParent.slice(0, stackCount),
      frame: stackFrame.slice(0, stackCount),
    },
    samples: {
      length: nodes.length,
      stack: sampleStack,
      // Stored sums beyond 2^53 or non-finite (never accepted, but summed or old rows) stay encodable.
      value: Float64Array.from(merged.values, clampSampleValue),
      labelSet: new Int32Array(nodes.length),
    },
    sampleLabelSets: [[]],
  };
}

export function profileTypeOf(id: string): ProfileType {
  const t = parseProfileTypeId(id);
  if (t === null) throw new Error(`not a profile type id: ${id}`);
  return t;
}

/** The merged profile of a query (all selected series and the whole range). */
export async function selectMergedProfile(
  store: Store,
  q: ProfileQuery,
  deadline: Deadline = NO_DEADLINE,
): Promise<Profile> {
  const merged = await store.mergeStacks(q);
  await deadline.pause();
  return profileFromMerged(store, profileTypeOf(q.profileTypeId), merged, deadline);
}

export async function selectFlamebearer(
  store: Store,
  q: ProfileQuery,
  maxNodes: number,
  deadline: Deadline = NO_DEADLINE,
): Promise<Flamebearer> {
  const profile = await selectMergedProfile(store, q, deadline);
  deadline.check();
  const fb = await flamePool.flamebearer(profile, maxNodes);
  deadline.check();
  return fb;
}

export async function selectFlamebearerDiff(
  store: Store,
  left: ProfileQuery,
  right: ProfileQuery,
  maxNodes: number,
  deadline: Deadline = NO_DEADLINE,
): Promise<FlamebearerDiff> {
  const [l, r] = await Promise.all([
    selectMergedProfile(store, left, deadline),
    selectMergedProfile(store, right, deadline),
  ]);
  deadline.check();
  const fb = await flamePool.diff(l, r, maxNodes);
  deadline.check();
  return fb;
}

/** Keeps the `limit` series with the largest totals (0 = all), in the store's order. */
export function topSeries(series: SeriesPoints[], limit: number): SeriesPoints[] {
  if (!(limit > 0) || series.length <= limit) return series;
  const totals = series.map((s) => s.values.reduce((a, b) => a + b, 0));
  const keep = new Set(
    series
      .map((_, i) => i)
      .sort((a, b) => totals[b]! - totals[a]! || a - b)
      .slice(0, limit),
  );
  return series.filter((_, i) => keep.has(i));
}

export async function selectSeries(store: Store, q: TimeSeriesQuery, limit: number): Promise<SeriesPoints[]> {
  const series = await store.timeSeries(q);
  // Points stay finite for every encoder, as in profileFromMerged.
  for (const s of series)
    for (let i = 0; i < s.values.length; i++) s.values[i] = clampSampleValue(s.values[i]!);
  return topSeries(series, limit);
}
