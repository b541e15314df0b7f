import { describe, expect, it } from 'vitest';
import { groupStats, shareSlices } from './explore.ts';
import {
  formatMatchers,
  formatState,
  parseMatchers,
  parseState,
  parseTime,
  selectorOf,
  shiftRange,
  DEFAULT_STATE,
} from './state.ts';
import { formatValue } from './format.ts';

describe('groupStats', () => {
  it('computes average, spread, total and share per value', () => {
    const rows = groupStats({
      'us-east': { startTime: 0, durationDelta: 15, samples: [1, 3] },
      'eu-north': { startTime: 0, durationDelta: 15, samples: [4, 8] },
    });
    expect(rows.map((r) => [r.value, r.avg, r.stddev, r.total, r.share])).toEqual([
      ['eu-north', 6, 2, 12, 0.75],
      ['us-east', 2, 1, 4, 0.25],
    ]);
  });
});

describe('shareSlices', () => {
  it("splits the circle clockwise from 12 o'clock in proportion to the shares", () => {
    const [a, b] = shareSlices([0.75, 0.25], 10);
    // 0.75 of the circle: from the top (10, 0) clockwise to 9 o'clock (0, 10), the large arc.
    expect(a).toBe('M 10 10 L 10 0 A 10 10 0 1 1 0 10 Z');
    expect(b).toBe('M 10 10 L 0 10 A 10 10 0 0 1 10 0 Z');
  });

  it('draws a lone value as a whole circle and skips empty ones', () => {
    const [whole, none] = shareSlices([1, 0], 10);
    expect(whole).toBe('M 10 0 A 10 10 0 1 1 10 20 A 10 10 0 1 1 10 0 Z');
    expect(none).toBe('');
  });
});

describe('URL state', () => {
  it('round-trips every field through the URL and omits defaults', () => {
    const s = {
      ...DEFAULT_STATE,
      view: 'diff' as const,
      service: 'ride-sharing-app',
      profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      query: '{region="eu-north"}',
      from: '1700000000000',
      until: 'now',
      rightQuery: '{vehicle=~"c.*"}',
      timelineFrom: 'now-3h',
      timelineUntil: '1700000600000',
      search: 'order_car',
      focus: 'main;order_car',
      inverted: true,
      collapse: true,
      diffMode: 'absolute' as const,
      theme: 'dark' as const,
      display: 'flame' as const,
      maxNodes: 1024,
    };
    const url = formatState(s);
    expect(url.startsWith('/comparison-diff?')).toBe(true);
    expect(url).not.toContain('until=');
    const u = new URL(url, 'http://x');
    expect(parseState(u.pathname, u.search)).toEqual(s);
    expect(formatState(DEFAULT_STATE)).toBe('/');
    expect(parseState('/nope', '?display=bogus&maxNodes=-3')).toEqual({ ...DEFAULT_STATE });
  });

  it('parses and formats label matchers', () => {
    const ms = parseMatchers('{region="eu-north", vehicle=~"c.*",env!="dev",x!~"a\\"b"}');
    expect(ms).toEqual([
      { name: 'region', op: '=', value: 'eu-north' },
      { name: 'vehicle', op: '=~', value: 'c.*' },
      { name: 'env', op: '!=', value: 'dev' },
      { name: 'x', op: '!~', value: 'a"b' },
    ]);
    expect(formatMatchers(ms)).toBe('{region="eu-north",vehicle=~"c.*",env!="dev",x!~"a\\"b"}');
    expect(selectorOf('app', '{service_name="other",a="1"}')).toBe('{service_name="app",a="1"}');
  });

  it('resolves relative and absolute times', () => {
    const now = 1_700_000_000_000;
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('now-1h', now)).toBe(now - 3_600_000);
    expect(parseTime('now-30m', now)).toBe(now - 1_800_000);
    expect(parseTime('now-7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('1700000000', now)).toBe(now);
    expect(parseTime('1700000000000', now)).toBe(now);
    expect(parseTime('bogus', now)).toBeNaN();
    expect(shiftRange('now-1h', 'now', 86_400_000, now)).toEqual({
      from: String(now - 3_600_000 - 86_400_000),
      until: String(now - 86_400_000),
    });
  });
});

describe('formatValue', () => {
  it('formats durations, bytes and counts', () => {
    expect(formatValue(1_500_000_000, { unit: 'nanoseconds' })).toBe('1.5 s');
    expect(formatValue(250_000, { unit: 'nanoseconds' })).toBe('250 µs');
    expect(formatValue(3 * 1024 * 1024, { unit: 'bytes' })).toBe('3 MiB');
    expect(formatValue(12_345, { unit: 'count' })).toBe('12.3 k');
  });
});
