import { describe, expect, it } from 'vitest';
import { labelsFromRecord } from '@hotpath/core';
import { HotpathError } from '../errors.ts';
import { parseQuery, parseSelector } from './selector.ts';
import { matchLabels } from '../store/match.ts';

function errorOf(f: () => unknown): HotpathError {
  try {
    f();
  } catch (e) {
    if (e instanceof HotpathError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseSelector', () => {
  it('parses the four operators, dotted names and trailing commas', () => {
    expect(
      parseSelector('{service_name="x", region=~"eu.*", vehicle!="car", env!~"dev.*", otel.scope.name="s",}'),
    ).toEqual([
      { name: 'service_name', op: '=', value: 'x' },
      { name: 'region', op: '=~', value: 'eu.*' },
      { name: 'vehicle', op: '!=', value: 'car' },
      { name: 'env', op: '!~', value: 'dev.*' },
      { name: 'otel.scope.name', op: '=', value: 's' },
    ]);
    expect(parseSelector('{}')).toEqual([]);
    expect(parseSelector('  { } ')).toEqual([]);
    expect(parseSelector('')).toEqual([]);
  });

  it('decodes Prometheus string escapes and raw strings', () => {
    expect(parseSelector(String.raw`{a="q\"\\\n\x41\u00e9\101", b='it\'s', c=` + '`raw\\n`}')).toEqual([
      { name: 'a', op: '=', value: 'q"\\\nAéA' },
      { name: 'b', op: '=', value: "it's" },
      { name: 'c', op: '=', value: 'raw\\n' },
    ]);
    expect(parseSelector('{"quoted.name"="v"}')).toEqual([{ name: 'quoted.name', op: '=', value: 'v' }]);
  });

  it.each([
    ['{a="x"', 7, "expected ',' or '}'"],
    ['{a=x}', 4, 'expected a quoted string'],
    ['{a=="x"}', 4, 'expected a quoted string'],
    ['{1a="x"}', 2, 'expected a label name'],
    ['{a~"x"}', 3, 'expected one of'],
    ['{a="x"} junk', 9, 'unexpected'],
    ['{a=~"("}', 5, 'invalid regular expression'],
    ['{a="\\q"}', 5, 'unknown escape'],
    ['{a="open}', 4, 'unterminated string'],
    ['a="x"', 1, "expected '{'"],
  ])('rejects %s at column %i', (text, column, what) => {
    const e = errorOf(() => parseSelector(text));
    expect(e.code).toBe('invalid_selector');
    expect(e.httpStatus).toBe(400);
    expect(e.details.column).toBe(column);
    expect(e.message).toContain(`column ${column}`);
    expect(e.message).toContain(what);
  });
});

describe('parseQuery', () => {
  it('splits the profile type id from the matchers', () => {
    expect(
      parseQuery('process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="ride-sharing-app"}'),
    ).toEqual({
      profileTypeId: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      matchers: [{ name: 'service_name', op: '=', value: 'ride-sharing-app' }],
    });
    expect(parseQuery('memory:alloc_in_new_tlab_bytes:bytes:::delta').profileTypeId).toBe(
      'memory:alloc_in_new_tlab_bytes:bytes::',
    );
  });

  it('needs a profile type id', () => {
    expect(errorOf(() => parseQuery('{a="b"}')).code).toBe('invalid_selector');
    expect(errorOf(() => parseQuery('cpu{a="b"}')).message).toContain('not a profile type id');
    expect(errorOf(() => parseQuery('a b:c:d:e:f{}')).details.column).toBe(2);
  });
});

describe('matchLabels', () => {
  const labels = labelsFromRecord({ service_name: 'ride', region: 'eu-north', 'otel.scope.name': 'x' });
  it.each([
    ['{service_name="ride"}', true],
    ['{region=~"eu.*"}', true],
    ['{region=~"eu"}', false], // regexes are fully anchored
    ['{region=~"north"}', false],
    ['{region!~"us.*"}', true],
    ['{vehicle!="car"}', true], // a missing label is ""
    ['{vehicle=""}', true],
    ['{vehicle=~".+"}', false],
    ['{otel.scope.name="x", service_name!="ride"}', false],
    ['{region=~"EU.*"}', false],
    ['{region=~"(?i)EU.*"}', true],
    ['{region=~"eu-north|us"}', true],
  ])('%s → %s', (sel, want) => {
    expect(matchLabels(labels, parseSelector(sel))).toBe(want);
  });
});
