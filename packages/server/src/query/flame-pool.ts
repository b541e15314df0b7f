// Flame graph trees (core's toFlamebearer / toFlamebearerDiff) built on worker threads: a tree over
// millions of stacks takes seconds of CPU, which on the event loop would stall /ready and ingest.
// Workers start on first use and stay (unref'd); when one cannot start, the tree is built in-process.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
  toFlamebearer,
  toFlamebearerDiff,
  type Flamebearer,
  type FlamebearerDiff,
  type Profile,
} from '@hotpath/core';

interface Job {
  readonly left: Profile;
  readonly right: Profile | undefined;
  readonly maxNodes: number;
  resolve(v: Flamebearer | FlamebearerDiff): void;
  reject(e: Error): void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  busy: Job | undefined;
}

/** Profiles smaller than this are cheaper to build here than to copy to a worker (~1-5 ms of work). */
const IN_PROCESS_SAMPLES = 2_000;

export class FlamePool {
  private slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private broken = false;
  /** Trees built on a worker so far (tests check that the worker path is taken). */
  builtOnWorkers = 0;

  constructor(private readonly size = Math.max(1, Math.min(2, availableParallelism() - 1))) {}

  flamebearer(profile: Profile, maxNodes: number): Promise<Flamebearer> {
    if (profile.samples.length < IN_PROCESS_SAMPLES || this.broken)
      return Promise.resolve(toFlamebearer(profile, { maxNodes }));
    return this.submit(profile, undefined, maxNodes) as Promise<Flamebearer>;
  }

  diff(left: Profile, right: Profile, maxNodes: number): Promise<FlamebearerDiff> {
    if (left.samples.length + right.samples.length < IN_PROCESS_SAMPLES || this.broken)
      return Promise.resolve(toFlamebearerDiff(left, right, { maxNodes }));
    return this.submit(left, right, maxNodes) as Promise<FlamebearerDiff>;
  }

  private submit(
    left: Profile,
    right: Profile | undefined,
    maxNodes: number,
  ): Promise<Flamebearer | FlamebearerDiff> {
    return new Promise((resolve, reject) => {
      this.queue.push({ left, right, maxNodes, resolve, reject });
      if (this.slots.length < this.size) this.start();
      this.dispatch();
    });
  }

  private start(): void {
    const worker = new Worker(new URL('./flame-worker.mjs', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, ready: false, busy: undefined };
    this.slots.push(slot);
    worker.on('message', (m: { ready?: true; result?: Flamebearer | FlamebearerDiff; error?: string }) => {
      if (m.ready) slot.ready = true;
      else {
        const job = slot.busy!;
        slot.busy = undefined;
        if (m.error !== undefined) job.reject(new Error(m.error));
        else {
          this.builtOnWorkers++;
          job.resolve(m.result!);
        }
      }
      this.dispatch();
    });
    worker.on('error', (e) => this.fail(slot, e));
    worker.on('exit', () => this.fail(slot, new Error('flame graph worker exited')));
  }

  /** A worker that dies takes its job with it (rejected); with no worker left, build in-process. */
  private fail(slot: Slot, e: Error): void {
    if (!this.slots.includes(slot)) return;
    this.slots = this.slots.filter((s) => s !== slot);
    slot.busy?.reject(e);
    slot.busy = undefined;
    if (!slot.ready) this.broken = true; // could not even start (e.g. no tsx): stop trying
    if (this.slots.length === 0) {
      for (const job of this.queue.splice(0)) {
        try {
          job.resolve(
            job.right === undefined
              ? toFlamebearer(job.left, { maxNodes: job.maxNodes })
              : toFlamebearerDiff(job.left, job.right, { maxNodes: job.maxNodes }),
          );
        } catch (err) {
          job.reject(err as Error);
        }
      }
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.busy !== undefined) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      slot.busy = job;
      slot.worker.postMessage({ id: 0, left: job.left, right: job.right, maxNodes: job.maxNodes });
    }
  }

  /** Stops the workers (tests, shutdown). */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** One pool per process: workers are a process resource, shared by every app. */
export const flamePool = new FlamePool();
