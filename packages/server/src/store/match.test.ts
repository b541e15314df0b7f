import { describe, expect, it } from 'vitest';
import { labelsFromRecord } from '@hotpath/core';
import { HotpathError } from '../errors.ts';
import { parseSelector } from '../query/selector.ts';
import { compileSelectors, lookupOf, matchLabels } from './match.ts';
import { openMemoryStore } from './memory.ts';
import type { Matcher } from './types.ts';

const re = (name: string, value: string, op: Matcher['op'] = '=~'): Matcher => ({ name, op, value });

describe('label matchers (RE2, fully anchored)', () => {
  it('a catastrophic-backtracking pattern over 2,000-char values completes with the right answer', () => {
    const long = 'a'.repeat(2000);
    const labels = (v: string) => labelsFromRecord({ service_name: 'x', vehicle: v });
    expect(matchLabels(labels(`${long}b`), [re('vehicle', '(a+)+$')])).toBe(false);
    expect(matchLabels(labels(long), [re('vehicle', '(a+)+$')])).toBe(true);
    expect(matchLabels(labels(`${long}!`), [re('vehicle', '(a|aa)+')])).toBe(false);
    expect(matchLabels(labels(`${long}!`), [re('vehicle', '(a|aa)+', '!~')])).toBe(true);
  });

  it.each([
    ['(?i)EU-.*', 'eu-north', true],
    ['(?i:eu)-north', 'EU-north', true],
    ['EU-.*', 'eu-north', false],
    ['a.b', 'a\nb', false],
    ['(?s)a.b', 'a\nb', true],
    ['\\d+', '2026', true],
    ['\\d+', 'v2', false],
    ['[[:alpha:]]+-[a-z]+', 'eu-north', true],
    ['\\pL+', 'ünïcode', true],
    ['eu', 'eu-north', false],
    ['eu|us', 'us', true],
    ['', '', true],
  ])('%j against %j → %s', (pattern, value, want) => {
    expect(matchLabels(labelsFromRecord({ region: value }), [re('region', pattern)])).toBe(want);
  });

  it.each([
    ['(?=a)a', 'lookahead'],
    ['(?<!a)b', 'lookbehind'],
    ['(a)\\1', 'backreference'],
    ['a++', 'possessive'],
    ['a)|(b', 'unbalanced'],
    ['x{1001}', 'repeat above 1000'],
  ])('%j (%s, not RE2) is a coded 400 naming the label in every store and in the parser', (pattern) => {
    let err: unknown;
    try {
      compileSelectors([[re('region', pattern)]]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HotpathError);
    expect(err).toMatchObject({ code: 'invalid_matcher', httpStatus: 400, details: { label: 'region' } });
    const sel = `{region=~${JSON.stringify(pattern)}}`;
    expect(() => parseSelector(sel)).toThrow(expect.objectContaining({ code: 'invalid_selector' }));
  });

  it('the parser names the column of a bad regex', () => {
    try {
      parseSelector('{a="b", region=~"(?=x)"}');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'invalid_selector', details: { column: 17 } });
    }
  });

  it('an OR of ANDs; [] selects everything; a missing label reads as ""', () => {
    const l = lookupOf(labelsFromRecord({ service_name: 'ride', region: 'eu' }));
    expect(compileSelectors([])(l)).toBe(true);
    expect(compileSelectors([[re('region', 'us')], [re('service_name', 'r.*')]])(l)).toBe(true);
    expect(compileSelectors([[re('region', 'us')], [re('vehicle', '.+')]])(l)).toBe(false);
    expect(compileSelectors([[re('vehicle', '')]])(l)).toBe(true);
  });

  it('the memory store rejects an invalid regex with the same coded error as DuckDB and ClickHouse', async () => {
    const store = await openMemoryStore();
    await expect(
      store.series({ tenant: 't', selectors: [[re('service_name', '(')]], startMs: 0, endMs: 1 }),
    ).rejects.toMatchObject({ code: 'invalid_matcher', httpStatus: 400 });
  });
});
