// /ingest parameters: the name grammar, attime formats and the legacy suffix table.
import { describe, expect, it } from 'vitest';
import {
  ingestQueryOf,
  legacyProfileType,
  parseName,
  parseSampleRate,
  parseTime,
  splitAppSuffix,
} from './params.ts';

describe('parseName', () => {
  it('reads APP{k=v,...}, trims, drops __* keys except __session_id__, ignores text after }', () => {
    expect(parseName(' my.app.cpu { env = staging ,region=us-west-1,__x=1,__session_id__=s1 } tail')).toEqual(
      {
        app: 'my.app.cpu',
        labels: [
          { name: 'env', value: 'staging' },
          { name: 'region', value: 'us-west-1' },
          { name: '__session_id__', value: 's1' },
        ],
      },
    );
    expect(parseName('app{}')).toEqual({ app: 'app', labels: [] });
    expect(parseName('svc/path-1_x')).toEqual({ app: 'svc/path-1_x', labels: [] });
  });
  it('rejects a missing or bad name with coded errors', () => {
    expect(() => parseName(undefined)).toThrow(expect.objectContaining({ code: 'missing_name' }));
    expect(() => parseName('{a=b}')).toThrow(expect.objectContaining({ code: 'missing_name' }));
    expect(() => parseName('a b')).toThrow(expect.objectContaining({ code: 'invalid_name' }));
    expect(() => parseName('a{k}')).toThrow(expect.objectContaining({ code: 'invalid_name' }));
    expect(() => parseName('a{k-1=v}')).toThrow(expect.objectContaining({ code: 'invalid_name' }));
    expect(() => parseName('a{k=v')).toThrow(expect.objectContaining({ code: 'invalid_name' }));
    expect(() => parseName('a{__name__=v}')).toThrow(expect.objectContaining({ code: 'invalid_name' }));
  });
});

describe('parseTime', () => {
  const now = 1_767_225_600_000;
  it('reads s, ms, µs, ns by digit count, YYYYMMDD and now-offsets', () => {
    expect(parseTime('from', '1767225600', now)).toBe(1_767_225_600_000);
    expect(parseTime('from', '1767225600123', now)).toBe(1_767_225_600_123);
    expect(parseTime('from', '1767225600123456', now)).toBeCloseTo(1_767_225_600_123.456, 3);
    expect(parseTime('from', '1767225600123456789', now)).toBeCloseTo(1_767_225_600_123.456, 3);
    expect(parseTime('from', '20260101', now)).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('from', undefined, now)).toBe(now);
    expect(parseTime('from', 'now', now)).toBe(now);
    expect(parseTime('from', 'now-3h', now)).toBe(now - 3 * 3_600_000);
    expect(parseTime('from', 'now-30min', now)).toBe(now - 30 * 60_000);
    expect(parseTime('from', 'now-1w', now)).toBe(now - 7 * 86_400_000);
  });
  it('rejects anything else', () => {
    expect(() => parseTime('from', 'now-3h30m', now)).toThrow(
      expect.objectContaining({ code: 'invalid_parameter' }),
    );
    expect(() => parseTime('until', 'tomorrow', now)).toThrow(
      expect.objectContaining({ code: 'invalid_parameter' }),
    );
    expect(() => parseTime('from', 'now-1x', now)).toThrow(/unknown unit 'x'/);
    // Names inherited by plain objects are not units (this once gave NaN).
    expect(() => parseTime('from', 'now-1constructor', now)).toThrow(
      expect.objectContaining({ code: 'invalid_parameter' }),
    );
  });
});

describe('legacy profile types', () => {
  it('maps suffixes per the compatibility table, scaling cpu/wall by the sample rate', () => {
    expect(legacyProfileType('cpu', 100)).toEqual({
      type: expect.objectContaining({ id: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds' }),
      scale: 10_000_000,
    });
    expect(legacyProfileType('cpu', 0).type.id).toBe('process_cpu:samples:count::');
    expect(legacyProfileType('wall', 50)).toEqual({
      type: expect.objectContaining({ id: 'wall:wall:nanoseconds:cpu:nanoseconds' }),
      scale: 20_000_000,
    });
    expect(legacyProfileType('alloc_space', 100).type.id).toBe('memory:alloc_space:bytes::');
    expect(legacyProfileType('inuse_objects', 100).type.id).toBe('memory:inuse_objects:count::');
    expect(legacyProfileType('goroutines', 100).type.id).toBe('goroutine:goroutines:count::');
    expect(legacyProfileType('mutex_duration', 100).type.id).toBe('mutex:delay:nanoseconds::');
    expect(legacyProfileType('lock_count', 100).type.id).toBe('block:contentions:count::');
    expect(legacyProfileType('exceptions', 100).type.id).toBe('exceptions:samples:count::');
    expect(() => legacyProfileType('app', 100)).toThrow(
      expect.objectContaining({ code: 'unknown_profile_type', httpStatus: 400 }),
    );
  });
  it('splits the suffix at the last dot; no dot means cpu', () => {
    expect(splitAppSuffix('my.app.cpu')).toEqual({ app: 'my.app', suffix: 'cpu' });
    expect(splitAppSuffix('curl-test-app')).toEqual({ app: 'curl-test-app', suffix: 'cpu' });
  });
  it('sampleRate: invalid or negative → 100', () => {
    expect(parseSampleRate('97')).toBe(97);
    expect(parseSampleRate('-5')).toBe(100);
    expect(parseSampleRate('x')).toBe(100);
    expect(parseSampleRate(undefined)).toBe(100);
    // 400 digits parse as Infinity, which would scale every value to 0.
    expect(parseSampleRate('9'.repeat(400))).toBe(100);
  });
  it('a repeated parameter is invalid_parameter; single ones pass through, unknown ones are ignored', () => {
    expect(ingestQueryOf({ name: 'a', from: 'now', other: ['x', 'y'] })).toEqual({ name: 'a', from: 'now' });
    expect(() => ingestQueryOf({ name: ['a', 'b'] })).toThrow(
      expect.objectContaining({ code: 'invalid_parameter', details: { param: 'name' } }),
    );
  });
  it('times outside 1970 .. 9999 are invalid_parameter', () => {
    for (const t of ['now-99999999999d', '9'.repeat(300), 'now+8000y', '99999999'])
      expect(() => parseTime('from', t, Date.UTC(2026, 0, 1))).toThrow(
        expect.objectContaining({ code: 'invalid_parameter' }),
      );
    expect(parseTime('from', '253402300799', 0)).toBe(253402300799000);
  });
});
