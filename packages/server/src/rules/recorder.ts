// Recording rules evaluated as profiles arrive: the write path hands each normalised profile to a
// RuleEvaluator (per request), whose hits are added to per-tenant Prometheus counters only once the
// request's data is committed. Counters live in memory: they restart from zero with the process, as
// any Prometheus counter does, and Prometheus' rate() reads through the reset.

import type { Labels, StackTable } from '@hotpath/core';
import type { RecordingRule } from '../gen/settings/v1/recording_rules_pb.ts';
import { lookupOf } from '../store/match.ts';
import { promLabels, type Metrics } from '../metrics.ts';
import { compileRule, RULE_ID_LABEL, type CompiledRule } from './rule.ts';

/** One rule of one tenant with its counters. Replacing or deleting the rule drops the whole state. */
interface RuleState {
  readonly tenant: string;
  readonly compiled: CompiledRule;
  /** By the group-by labels' text (promLabels): those labels and the sum so far. */
  readonly counters: Map<string, { readonly groupLabels: Record<string, string>; value: number }>;
}

/** What one profile adds to one rule's series; applied after the commit. */
export interface RuleHit {
  readonly state: RuleState;
  readonly groupLabels: Record<string, string>;
  readonly value: number;
}

/** Evaluates the rules of one tenant over the profiles of one request; collects hits, changes nothing. */
export class RuleEvaluator {
  readonly hits: RuleHit[] = [];
  /** Per stack table and function name: 1 where the stack (or an ancestor) calls the function. */
  private readonly calls = new WeakMap<StackTable, Map<string, Uint8Array>>();

  constructor(private readonly states: readonly RuleState[]) {}

  /**
   * One normalised profile: its series labels, the stack table (ancestors have lower indexes), the
   * name of each frame index, its value per stack index, and further values per stack index kept
   * apart (the samples of each span).
   */
  observe(
    labels: Labels,
    stacks: StackTable,
    names: readonly string[],
    sums: Float64Array,
    apart: Iterable<ReadonlyMap<number, number>> = [],
  ): void {
    const lookup = lookupOf(labels);
    // Without a function filter every rule adds the same sum: computed once. With one, only the
    // stacks holding samples (about one in ten of the table) are visited.
    let whole: number | undefined;
    let sampled: Int32Array | undefined;
    for (const state of this.states) {
      if (!state.compiled.match(lookup)) continue;
      const fn = state.compiled.functionName;
      let value = 0;
      if (fn === undefined) {
        if (whole === undefined) {
          whole = 0;
          for (let s = 0; s < sums.length; s++) whole += sums[s]!;
          for (const more of apart) for (const v of more.values()) whole += v;
        }
        value = whole;
      } else {
        const calls = this.callsOf(stacks, names, fn);
        sampled ??= nonZero(sums);
        for (const s of sampled) if (calls[s] === 1) value += sums[s]!;
        for (const more of apart) for (const [s, v] of more) if (calls[s] === 1) value += v;
      }
      const groupLabels: Record<string, string> = {};
      for (const name of state.compiled.rule.groupBy) {
        const v = lookup.get(name);
        if (v !== undefined && v !== '') groupLabels[name] = v;
      }
      this.hits.push({ state, groupLabels, value });
    }
  }

  /** Total semantics: a stack counts once however often the function recurs in it. */
  private callsOf(stacks: StackTable, names: readonly string[], fn: string): Uint8Array {
    let byName = this.calls.get(stacks);
    if (byName === undefined) this.calls.set(stacks, (byName = new Map()));
    let calls = byName.get(fn);
    if (calls === undefined) {
      // Names are compared once per frame, not once per stack.
      const isFn = new Uint8Array(names.length);
      for (let f = 0; f < names.length; f++) isFn[f] = names[f] === fn ? 1 : 0;
      calls = new Uint8Array(stacks.length);
      for (let s = 0; s < stacks.length; s++) {
        const parent = stacks.parent[s]!;
        calls[s] = isFn[stacks.frame[s]!]! | (parent === -1 ? 0 : calls[parent]!);
      }
      byName.set(fn, calls);
    }
    return calls;
  }
}

/** Indexes of the non-zero entries of `values`. */
function nonZero(values: Float64Array): Int32Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) out[n++] = i;
  return out;
}

/** Every tenant's rules and counters; one per app (created by buildServer). */
export class RuleRecorder {
  private readonly tenants = new Map<string, Map<string, RuleState>>();

  constructor(
    /** Series per rule (distinct group-by values); increments of further series are dropped, counted. */
    private readonly maxSeriesPerRule: number,
    private readonly metrics: Metrics,
  ) {}

  private changes: Promise<unknown> = Promise.resolve();

  /** Runs `change` after every change queued before it: a check and the write it guards never interleave. */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const next = this.changes.then(change, change);
    this.changes = next.catch(() => undefined);
    return next;
  }

  /**
   * Makes the rules those of `all` (every tenant's, as stored): a rule at the same generation keeps
   * its counters, a changed one starts again from zero, one no longer listed is dropped.
   */
  replaceAll(all: readonly { readonly tenant: string; readonly rule: RecordingRule }[]): void {
    const next = new Map<string, Map<string, RuleState>>();
    for (const { tenant, rule } of all) {
      const old = this.tenants.get(tenant)?.get(rule.id);
      let rules = next.get(tenant);
      if (rules === undefined) next.set(tenant, (rules = new Map()));
      rules.set(
        rule.id,
        old !== undefined && old.compiled.rule.generation === rule.generation
          ? old
          : { tenant, compiled: compileRule(rule), counters: new Map() },
      );
    }
    this.tenants.clear();
    for (const [tenant, rules] of next) this.tenants.set(tenant, rules);
  }

  /** Adds or replaces a (validated) rule; a replaced rule's counters restart from zero. */
  set(tenant: string, rule: RecordingRule): void {
    let rules = this.tenants.get(tenant);
    if (rules === undefined) this.tenants.set(tenant, (rules = new Map()));
    rules.set(rule.id, { tenant, compiled: compileRule(rule), counters: new Map() });
  }

  delete(tenant: string, id: string): boolean {
    const rules = this.tenants.get(tenant);
    const had = rules?.delete(id) ?? false;
    if (rules?.size === 0) this.tenants.delete(tenant);
    return had;
  }

  /** An evaluator over the tenant's current rules, or undefined when it has none (no cost then). */
  evaluator(tenant: string): RuleEvaluator | undefined {
    const rules = this.tenants.get(tenant);
    return rules === undefined ? undefined : new RuleEvaluator([...rules.values()]);
  }

  /** Adds committed hits to the counters, within the series cap. */
  apply(hits: readonly RuleHit[]): void {
    for (const h of hits) {
      const k = promLabels(h.groupLabels);
      const counter = h.state.counters.get(k);
      if (counter !== undefined) {
        counter.value += h.value;
        continue;
      }
      if (h.state.counters.size >= this.maxSeriesPerRule) {
        this.metrics.ruleDrops.inc({
          tenant: h.state.tenant,
          rule_id: h.state.compiled.rule.id,
          code: 'rule_series_limit',
        });
        continue;
      }
      h.state.counters.set(k, { groupLabels: h.groupLabels, value: h.value });
    }
  }

  /** The tenant's rule series in Prometheus text (one family per metric name; '' without rules). */
  render(tenant: string): string {
    const families = new Map<string, RuleState[]>();
    for (const state of this.tenants.get(tenant)?.values() ?? []) {
      const name = state.compiled.rule.metricName;
      families.set(name, [...(families.get(name) ?? []), state]);
    }
    const lines: string[] = [];
    for (const [name, states] of [...families].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const types = [...new Set(states.map((s) => s.compiled.rule.profileType))].join(', ');
      lines.push(`# HELP ${name} Recording rule: sum of ${types} profile values.`, `# TYPE ${name} counter`);
      for (const state of states) {
        const rule = state.compiled.rule;
        const constant: Record<string, string> = {};
        for (const l of rule.externalLabels) constant[l.name] = l.value;
        constant[RULE_ID_LABEL] = rule.id;
        for (const c of state.counters.values())
          lines.push(`${name}{${promLabels({ ...constant, ...c.groupLabels })}} ${c.value}`);
      }
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}
