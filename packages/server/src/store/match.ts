// Label matching for every Store backend and the selector parser: Prometheus semantics (a missing
// label reads as "", regexes fully anchored, Go RE2 syntax incl. (?i) and (?s)), run by RE2 (re2js),
// whose matching time is linear in the label value, so no selector can stall the event loop.

import { RE2JS } from 're2js';
import type { Labels } from '@hotpath/core';
import { storeErrors } from './errors.ts';
import type { Matcher } from './types.ts';

/** Label lookups a compiled matcher needs (a Map, a store's own label table, a Labels list). */
export interface LabelLookup {
  get(name: string): string | undefined;
}

/** A selector compiled once per query, then run against each series. */
export type CompiledMatch = (labels: LabelLookup) => boolean;

/**
 * Compiled regexes by source, least recently used first. Bounded because sources come from clients;
 * 1,000 patterns cover every dashboard of a tenant, and a miss costs only a compile.
 */
const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_ENTRIES = 1_000;

/**
 * The RE2 program for a matcher value (cached). The value is compiled on its own, so it must be a
 * complete regex (`a)|(b` is invalid, as it is in Pyroscope once anchored), then matched against the
 * whole label value. Throws re2js' RE2JSException when the value is not valid RE2 syntax
 * (JS-only syntax such as lookahead `(?=` included).
 */
export function compileRegex(source: string): RE2JS {
  let re = regexCache.get(source);
  if (re !== undefined) {
    regexCache.delete(source);
    regexCache.set(source, re);
    return re;
  }
  re = RE2JS.compile(source);
  if (regexCache.size >= REGEX_CACHE_ENTRIES) regexCache.delete(regexCache.keys().next().value!);
  regexCache.set(source, re);
  return re;
}

/** Why `source` is not a valid RE2 regex, or null when it is. */
export function regexSyntaxError(source: string): string | null {
  try {
    compileRegex(source);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Compiles one matcher; an invalid regex is a 400 invalid_matcher naming the label. */
export function compileMatcher(m: Matcher): CompiledMatch {
  const get = (labels: LabelLookup): string => labels.get(m.name) ?? '';
  switch (m.op) {
    case '=':
      return (l) => get(l) === m.value;
    case '!=':
      return (l) => get(l) !== m.value;
    case '=~':
    case '!~': {
      let re: RE2JS;
      try {
        re = compileRegex(m.value);
      } catch (e) {
        throw storeErrors.invalidMatcher(m.name, m.value, (e as Error).message);
      }
      return m.op === '=~' ? (l) => re.testExact(get(l)) : (l) => !re.testExact(get(l));
    }
  }
}

/** Compiles an AND of matchers; [] matches everything. */
export function compileMatchers(matchers: readonly Matcher[]): CompiledMatch {
  const all = matchers.map(compileMatcher);
  return (l) => all.every((f) => f(l));
}

/** Compiles an OR of selectors (each an AND of matchers); [] selects everything. */
export function compileSelectors(selectors: readonly (readonly Matcher[])[]): CompiledMatch {
  if (selectors.length === 0) return () => true;
  const any = selectors.map(compileMatchers);
  return (l) => any.some((f) => f(l));
}

/** A Labels list as a LabelLookup (first pair of a name wins). */
export function lookupOf(labels: Labels): LabelLookup {
  return {
    get(name) {
      for (const l of labels) if (l.name === name) return l.value;
      return undefined;
    },
  };
}

/** True when `labels` satisfy every matcher; for one-off checks (stores compile once per query). */
export function matchLabels(labels: Labels, matchers: readonly Matcher[]): boolean {
  return compileMatchers(matchers)(lookupOf(labels));
}
