// A recording rule (settings.v1.RecordingRule): validated once at the edge with coded errors, then
// compiled into what the write path runs per profile (rules/recorder.ts). Pyroscope's rule grammar:
// ids are letters, a rule's matchers are ANDed and hold exactly one `__profile_type__="<id>"`.

import { create, fromJsonString, toJsonString } from '@bufbuild/protobuf';
import { parseProfileTypeId } from '@hotpath/core';
import { HotpathError } from '../errors.ts';
import {
  RecordingRuleSchema,
  type RecordingRule,
  type UpsertRecordingRuleRequest,
} from '../gen/settings/v1/recording_rules_pb.ts';
import { parseSelector } from '../query/selector.ts';
import { compileMatchers, type CompiledMatch } from '../store/match.ts';
import type { Matcher } from '../store/types.ts';

/** The document kind rules are kept under in the store (one document per rule, body: protojson). */
export const RULE_KIND = 'recording_rule';
/** Pyroscope's rule ids: letters only; new ones are 10 random letters. */
const ID = /^[a-zA-Z]+$/;
const NEW_ID_LENGTH = 10;
const MAX_ID_LENGTH = 64;
/** Prometheus metric name and label name grammars (legacy, as Prometheus' text format takes them). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_NAME_LENGTH = 200;
/** Entries per list field of a rule: each matcher runs against every profile written, so lists stay short. */
const MAX_LIST = { matchers: 32, groupBy: 16, externalLabels: 16 } as const;
/** The label each exposed series carries to name its rule (Pyroscope's name for it). */
export const RULE_ID_LABEL = 'profiles_rule_id';

function bad(code: string, message: string, details: Record<string, string | number> = {}): HotpathError {
  return new HotpathError(code, 400, 'invalid_argument', message, details);
}

/** rule_profile_type: the rule's __profile_type__ matcher is missing, repeated or not a profile type id. */
const ruleProfileType = (message: string, actual: string | number) =>
  bad('rule_profile_type', message, { actual });

export const ruleErrors = {
  invalidId: (id: string) =>
    bad('invalid_rule_id', `rule id ${JSON.stringify(id.slice(0, 80))} must be 1-${MAX_ID_LENGTH} letters`, {
      actual: id.slice(0, 80),
    }),
  missingId: () => bad('missing_rule_id', 'id is required'),
  invalidMetricName: (name: string, why: string) =>
    bad('invalid_metric_name', `metric_name ${JSON.stringify(name.slice(0, 80))} ${why}`, {
      actual: name.slice(0, 80),
    }),
  profileType: (found: number) =>
    ruleProfileType(
      `the matchers must hold exactly one __profile_type__="<profile type id>" matcher, found ${found}`,
      found,
    ),
  invalidProfileType: (id: string) =>
    ruleProfileType(
      `__profile_type__ ${JSON.stringify(id)} is not <name>:<sample type>:<sample unit>:<period type>:<period unit>`,
      id,
    ),
  invalidLabel: (field: string, name: string) =>
    bad(
      'invalid_rule_label',
      `${field} label ${JSON.stringify(name.slice(0, 80))} must match [a-zA-Z_][a-zA-Z0-9_]*, not start with __ and not be ${RULE_ID_LABEL}`,
      { field, actual: name.slice(0, 80) },
    ),
  invalidFunction: (length: number, limit: number) =>
    bad(
      'invalid_rule_function',
      `stacktrace_filter.function_name must be 1-${limit} characters, got ${length}`,
      { limit, actual: length },
    ),
  tooLarge: (field: keyof typeof MAX_LIST, actual: number) =>
    bad('rule_too_large', `${field} has ${actual} entries, the limit is ${MAX_LIST[field]}`, {
      field,
      limit: MAX_LIST[field],
      actual,
    }),
  invalidGeneration: (generation: number) =>
    bad('invalid_rule_generation', `generation must be >= 0, got ${generation}`, { actual: generation }),
  notFound: (id: string) =>
    new HotpathError('rule_not_found', 404, 'not_found', `no rule with id ${JSON.stringify(id)}`, { id }),
  conflict: (id: string, expected: number, actual: number) =>
    new HotpathError(
      'rule_conflict',
      409,
      'already_exists',
      `rule ${id} is at generation ${actual}, the update was made from ${expected}: conflicting update, read it again`,
      { id, expected, actual },
    ),
  tooMany: (limit: number) =>
    new HotpathError(
      'too_many_rules',
      429,
      'resource_exhausted',
      `the tenant has ${limit} recording rules, the limit is ${limit}; delete one first`,
      { limit, actual: limit + 1 },
    ),
};

/** A random new rule id: 10 letters (about 57 bits). */
export function newRuleId(random: () => number = Math.random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let id = '';
  for (let i = 0; i < NEW_ID_LENGTH; i++) id += letters[Math.floor(random() * letters.length)];
  return id;
}

export function checkRuleId(id: string): string {
  const trimmed = id.trim();
  if (trimmed === '') throw ruleErrors.missingId();
  if (trimmed.length > MAX_ID_LENGTH || !ID.test(trimmed)) throw ruleErrors.invalidId(trimmed);
  return trimmed;
}

function checkLabelName(field: string, name: string): void {
  if (
    !LABEL_NAME.test(name) ||
    name.startsWith('__') ||
    name === RULE_ID_LABEL ||
    name.length > MAX_NAME_LENGTH
  )
    throw ruleErrors.invalidLabel(field, name);
}

/**
 * Checks an upsert (all fields) and returns the rule it describes, `id` and `generation` as given
 * (the service assigns them). The profile type is read from the matchers, as Pyroscope does.
 */
export function ruleFromUpsert(req: UpsertRecordingRuleRequest, maxSymbolLength: number): RecordingRule {
  const metricName = req.metricName.trim();
  if (metricName === '') throw ruleErrors.invalidMetricName(metricName, 'is required');
  if (metricName.length > MAX_NAME_LENGTH)
    throw ruleErrors.invalidMetricName(metricName, `is longer than ${MAX_NAME_LENGTH} characters`);
  if (!METRIC_NAME.test(metricName))
    throw ruleErrors.invalidMetricName(metricName, 'must match [a-zA-Z_:][a-zA-Z0-9_:]*');
  if (metricName.startsWith('__') || metricName.startsWith('hotpath_'))
    throw ruleErrors.invalidMetricName(metricName, 'must not start with __ or hotpath_ (reserved)');
  for (const field of ['matchers', 'groupBy', 'externalLabels'] as const)
    if (req[field].length > MAX_LIST[field]) throw ruleErrors.tooLarge(field, req[field].length);
  const profileType = profileTypeOf(req.matchers);
  for (const g of req.groupBy) checkLabelName('group_by', g);
  for (const l of req.externalLabels) checkLabelName('external_labels', l.name);
  if (req.generation < 0n) throw ruleErrors.invalidGeneration(Number(req.generation));
  const fn = req.stacktraceFilter?.functionName;
  if (fn !== undefined && (fn.functionName === '' || fn.functionName.length > maxSymbolLength))
    throw ruleErrors.invalidFunction(fn.functionName.length, maxSymbolLength);
  return create(RecordingRuleSchema, {
    id: req.id,
    metricName,
    profileType,
    matchers: [...req.matchers],
    groupBy: [...new Set(req.groupBy)],
    externalLabels: req.externalLabels.map((l) => ({ name: l.name, value: l.value })),
    generation: req.generation,
    stacktraceFilter: fn === undefined ? undefined : { functionName: { functionName: fn.functionName } },
  });
}

/** Every matcher of every selector (ANDed); selector syntax errors are invalid_selector (selector.ts). */
function matchersOf(selectors: readonly string[]): Matcher[] {
  return selectors.flatMap((s) => parseSelector(s));
}

function profileTypeOf(selectors: readonly string[]): string {
  const types = matchersOf(selectors).filter((m) => m.name === '__profile_type__');
  if (types.length !== 1 || types[0]!.op !== '=') throw ruleErrors.profileType(types.length);
  const type = parseProfileTypeId(types[0]!.value);
  if (type === null || type.id !== types[0]!.value) throw ruleErrors.invalidProfileType(types[0]!.value);
  return type.id;
}

/** What the write path runs for one rule. */
export interface CompiledRule {
  readonly rule: RecordingRule;
  /** The AND of the rule's matchers, `__profile_type__` included. */
  readonly match: CompiledMatch;
  /** Only stacks with a frame of this name count (total, each stack once); undefined: every stack. */
  readonly functionName: string | undefined;
}

export function compileRule(rule: RecordingRule): CompiledRule {
  return {
    rule,
    match: compileMatchers(matchersOf(rule.matchers)),
    functionName: rule.stacktraceFilter?.functionName?.functionName,
  };
}

/** The document body of a rule (protojson of settings.v1.RecordingRule). */
export function ruleToJson(rule: RecordingRule): string {
  return toJsonString(RecordingRuleSchema, rule);
}

export function ruleFromJson(body: string): RecordingRule {
  return fromJsonString(RecordingRuleSchema, body, { ignoreUnknownFields: true });
}
