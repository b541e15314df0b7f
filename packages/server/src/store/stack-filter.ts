// Which stacks a StackFilter keeps, decided over the stack dictionary in JS (the memory and ClickHouse
// stores; DuckDB asks the same question in SQL). Walking a stack's parents costs its depth once: the
// answer of every stack visited is remembered for the query.

import type { StackFilter, StackRecord } from './types.ts';

/** True when the filter selects something narrower than every stack. */
export function filtersStacks(f: StackFilter | undefined): f is StackFilter {
  return f !== undefined && (f.functionName !== undefined || (f.callSite?.length ?? 0) > 0);
}

/**
 * Decides stacks by id; `stackOf` and `nameOf` answer from a dictionary holding every ancestor of
 * the stacks asked about (an unknown stack or function matches nothing).
 */
export class StackMatcher {
  private readonly contains = new Map<bigint, boolean>();

  constructor(
    private readonly filter: StackFilter,
    private readonly stackOf: (id: bigint) => StackRecord | undefined,
    private readonly nameOf: (functionId: bigint) => string | undefined,
  ) {}

  matches(id: bigint): boolean {
    const fn = this.filter.functionName;
    if (fn !== undefined && !this.hasFunction(id, fn)) return false;
    const site = this.filter.callSite ?? [];
    return site.length === 0 || this.startsWith(id, site);
  }

  /** Whether a frame of the stack (or of an ancestor) is `fn`; iterative, so deep stacks do not overflow. */
  private hasFunction(id: bigint, fn: string): boolean {
    const pending: bigint[] = [];
    let at = id;
    let found: boolean | undefined;
    for (;;) {
      found = this.contains.get(at);
      if (found !== undefined) break;
      const s = this.stackOf(at);
      if (s === undefined) {
        found = false;
        break;
      }
      if (this.nameOf(s.functionId) === fn) {
        found = true;
        this.contains.set(at, true);
        break;
      }
      pending.push(at);
      if (s.parentId === 0n) {
        found = false;
        break;
      }
      at = s.parentId;
    }
    for (const p of pending) this.contains.set(p, found);
    return found;
  }

  /** Whether the stack's frames from the root begin with `site` (a shorter stack never does). */
  private startsWith(id: bigint, site: readonly string[]): boolean {
    const path: StackRecord[] = [];
    for (let at = id; at !== 0n;) {
      const s = this.stackOf(at);
      if (s === undefined) return false;
      path.push(s);
      at = s.parentId;
    }
    if (path.length < site.length) return false;
    for (let i = 0; i < site.length; i++)
      if (this.nameOf(path[path.length - 1 - i]!.functionId) !== site[i]) return false;
    return true;
  }
}
