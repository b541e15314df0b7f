// Group commit: concurrent requests hand their batches to one GroupCommitter, which appends them to
// the store in a single transaction every `intervalMs` (or at once when `maxRows` are waiting) and
// resolves each request only after that commit: a 200 means durable. A failed commit fails every
// request of its group with a retryable 503; nothing of a failed group is visible.

import type { Metrics } from '../metrics.ts';
import type { FunctionRecord, ProfileRecord, StackRecord, Store, WriteBatch } from '../store/types.ts';
import { IngestErrors } from './errors.ts';

export interface GroupCommitOptions {
  /** Longest wait before a commit, ms (default 200). */
  readonly intervalMs?: number;
  /** Commit at once when this many sample rows are waiting (default 200,000). */
  readonly maxRows?: number;
}

interface Waiter {
  readonly batch: WriteBatch;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommitter {
  private readonly intervalMs: number;
  private readonly maxRows: number;
  private pending: Waiter[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The commit being written; batches arriving meanwhile wait and go together into the next one. */
  private inFlight: Promise<void> | undefined;
  /** A commit was due while another was in flight: start the next one as soon as it finishes. */
  private due = false;
  private closed = false;
  /** Commits done (for tests and metrics). */
  commits = 0;

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics | undefined,
    opts: GroupCommitOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 200;
    this.maxRows = opts.maxRows ?? 200_000;
  }

  /** Resolves once the batch is durable; rejects with a coded 503 when its group's commit fails. */
  submit(batch: WriteBatch): Promise<void> {
    if (this.closed) return Promise.reject(IngestErrors.shuttingDown());
    if (batch.profiles.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      for (const p of batch.profiles) this.pendingRows += p.stackIds.length;
      if (this.pendingRows >= this.maxRows) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
    });
  }

  private kick(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight !== undefined) {
      // One commit at a time: when the store is slower than the interval, the waiting groups merge
      // into one larger commit instead of queueing up one commit each.
      this.due = true;
      return;
    }
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.inFlight = this.commit(group).finally(() => {
      this.inFlight = undefined;
      const due = this.due;
      this.due = false;
      if (this.pending.length === 0) return;
      if (due || this.pendingRows >= this.maxRows) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
    });
  }

  private async commit(group: Waiter[]): Promise<void> {
    const profiles: ProfileRecord[] = [];
    const functions = new Map<bigint, FunctionRecord>();
    const stacks = new Map<bigint, StackRecord>();
    for (const w of group) {
      profiles.push(...w.batch.profiles);
      for (const f of w.batch.functions) functions.set(f.id, f);
      for (const s of w.batch.stacks) stacks.set(s.id, s);
    }
    const started = performance.now();
    try {
      await this.store.append({ profiles, functions: [...functions.values()], stacks: [...stacks.values()] });
      this.commits++;
      this.metrics?.commitDuration.observe((performance.now() - started) / 1000, { store: this.store.kind });
      for (const w of group) w.resolve();
    } catch (e) {
      this.metrics?.commitDuration.observe((performance.now() - started) / 1000, {
        store: this.store.kind,
        result: 'error',
      });
      const err = IngestErrors.commitFailed(e instanceof Error ? e.message : String(e));
      for (const w of group) w.reject(err);
    }
  }

  /** Commits whatever is waiting now and resolves when every commit so far has finished. */
  async flush(): Promise<void> {
    for (;;) {
      this.kick();
      if (this.inFlight === undefined) return;
      await this.inFlight;
    }
  }

  /** Refuses new batches, then flushes the waiting ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
