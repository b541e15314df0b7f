// SelectSeries' stack selection (docs/api.md "Recording rules"): Pyroscope's stack_trace_selector
// (a call site from the root), Hotpath's function_name (a function anywhere on the stack, as a
// recording rule counts it) and rule_id (the series of a stored recording rule), checked once here.

import { HotpathError } from '../errors.ts';
import type { Limits } from '../limits.ts';
import { storedRule } from '../rules/service.ts';
import type { Matcher, StackFilter, Store } from '../store/types.ts';
import type { SelectSeriesRequest } from './messages.ts';
import { parseSelector } from './selector.ts';

function bad(code: string, message: string, details: Record<string, string | number>): HotpathError {
  return new HotpathError(code, 400, 'invalid_argument', message, details);
}

/** invalid_function_name: a function name (functionName or a call site frame) over maxSymbolLength. */
const functionNameTooLong = (what: string, details: { index?: number; limit: number; actual: number }) =>
  bad(
    'invalid_function_name',
    `${what} is ${details.actual} characters, the limit is ${details.limit}`,
    details,
  );

export const seriesFilterErrors = {
  functionTooLong: (limit: number, actual: number) => functionNameTooLong('functionName', { limit, actual }),
  callSiteTooLong: (limit: number, actual: number) =>
    bad('call_site_too_long', `stackTraceSelector.callSite has ${actual} frames, the limit is ${limit}`, {
      limit,
      actual,
    }),
  callSiteNameTooLong: (index: number, limit: number, actual: number) =>
    functionNameTooLong(`stackTraceSelector.callSite[${index}].name`, { index, limit, actual }),
  ruleConflict: (field: string, rule: string, asked: string) =>
    bad(
      'rule_query_conflict',
      `ruleId ${rule} fixes ${field}; the request asks for ${JSON.stringify(asked.slice(0, 200))}: drop it or leave ruleId out`,
      { field, rule, actual: asked.slice(0, 200) },
    ),
};

/** The request's stack filter, checked against the symbol and depth limits; undefined: every stack. */
export function stackFilterOf(req: SelectSeriesRequest, limits: Limits): StackFilter | undefined {
  if (req.functionName.length > limits.maxSymbolLength)
    throw seriesFilterErrors.functionTooLong(limits.maxSymbolLength, req.functionName.length);
  if (req.callSite.length > limits.maxStackDepth)
    throw seriesFilterErrors.callSiteTooLong(limits.maxStackDepth, req.callSite.length);
  req.callSite.forEach((name, i) => {
    if (name.length > limits.maxSymbolLength)
      throw seriesFilterErrors.callSiteNameTooLong(i, limits.maxSymbolLength, name.length);
  });
  if (req.functionName === '' && req.callSite.length === 0) return undefined;
  return {
    ...(req.functionName !== '' ? { functionName: req.functionName } : {}),
    ...(req.callSite.length > 0 ? { callSite: req.callSite } : {}),
  };
}

/**
 * With a rule id, the request the rule stands for: the rule's profile type, function and (unless
 * the request names its own) group-by labels; `ruleMatchers` are ANDed with the request's selector
 * (empty reads as `{}`). A request profile type or function other than the rule's is a conflict.
 */
export async function withRule(
  req: SelectSeriesRequest,
  store: Store,
  tenant: string,
): Promise<{ req: SelectSeriesRequest; ruleMatchers: Matcher[] }> {
  if (req.ruleId === '') return { req, ruleMatchers: [] };
  const rule = await storedRule(store, tenant, req.ruleId);
  if (req.profileTypeId !== '' && req.profileTypeId !== rule.profileType)
    throw seriesFilterErrors.ruleConflict('profileTypeID', rule.id, req.profileTypeId);
  const fn = rule.stacktraceFilter?.functionName?.functionName ?? '';
  if (req.functionName !== '' && req.functionName !== fn)
    throw seriesFilterErrors.ruleConflict('functionName', rule.id, req.functionName);
  return {
    req: {
      ...req,
      profileTypeId: rule.profileType,
      labelSelector: req.labelSelector === '' ? '{}' : req.labelSelector,
      groupBy: req.groupBy.length > 0 ? req.groupBy : [...rule.groupBy],
      functionName: fn,
    },
    ruleMatchers: rule.matchers.flatMap((m) => parseSelector(m)),
  };
}
