// The demo guide's diff link opens a fast and a slow eu-north period that the load shape really
// produced (even periods since the epoch are slow), never two copies of one range.
import { describe, expect, it } from 'vitest';
import { lastSlowAndFastPeriods, slowAndFastDiffLink, slowAndFastReadyAtMs } from '../src/demo-links.ts';

const at = (iso: string): number => Date.parse(iso);

describe('demo slow and fast periods', () => {
  it('are the last two whole periods, the even one slow', () => {
    // 19:03:20 UTC: 19:01 and 19:02 are the last whole minutes; minute 19:02 is even, so slow.
    expect(lastSlowAndFastPeriods(at('2026-12-03T19:03:20Z'), 60)).toEqual({
      slow: { fromMs: at('2026-12-03T19:02:00Z'), untilMs: at('2026-12-03T19:03:00Z') },
      fast: { fromMs: at('2026-12-03T19:01:00Z'), untilMs: at('2026-12-03T19:02:00Z') },
    });
    // A minute later the roles of "older" and "newer" swap, the parity rule does not.
    expect(lastSlowAndFastPeriods(at('2026-12-03T19:04:59Z'), 60)).toEqual({
      slow: { fromMs: at('2026-12-03T19:02:00Z'), untilMs: at('2026-12-03T19:03:00Z') },
      fast: { fromMs: at('2026-12-03T19:03:00Z'), untilMs: at('2026-12-03T19:04:00Z') },
    });
    // 10 s periods (RIDESHARE_PERIOD_S=10): 19:00:30 is period 179 632 443 (odd), 19:00:40 even.
    expect(lastSlowAndFastPeriods(at('2026-12-03T19:00:55Z'), 10)).toEqual({
      slow: { fromMs: at('2026-12-03T19:00:40Z'), untilMs: at('2026-12-03T19:00:50Z') },
      fast: { fromMs: at('2026-12-03T19:00:30Z'), untilMs: at('2026-12-03T19:00:40Z') },
    });
  });

  it('are ready once two whole periods and an upload have passed since the start', () => {
    // Started 18:58:10: 18:59 and 19:00 are the first whole minutes, recorded by 19:01:15.
    const ready = slowAndFastReadyAtMs(at('2026-12-03T18:58:10Z'), 60, 10);
    expect(ready).toBe(at('2026-12-03T19:01:15Z'));
    const { slow, fast } = lastSlowAndFastPeriods(ready, 60);
    expect([slow.fromMs, fast.fromMs].sort()).toEqual([
      at('2026-12-03T18:59:00Z'),
      at('2026-12-03T19:00:00Z'),
    ]);
  });

  it('link the diff view to the fast (baseline) and slow (comparison) minute on one timeline', () => {
    const link = new URL(
      slowAndFastDiffLink('http://127.0.0.1:4040/', 'ride-sharing-app', at('2026-12-03T19:03:20Z'), 60),
    );
    expect(link.pathname).toBe('/comparison-diff');
    const p = Object.fromEntries(link.searchParams);
    expect(p).toEqual({
      service: 'ride-sharing-app',
      profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      query: '{region="eu-north"}',
      from: String(at('2026-12-03T19:01:00Z')),
      until: String(at('2026-12-03T19:02:00Z')),
      rightQuery: '{region="eu-north"}',
      rightFrom: String(at('2026-12-03T19:02:00Z')),
      rightUntil: String(at('2026-12-03T19:03:00Z')),
      timelineFrom: String(at('2026-12-03T18:57:00Z')),
      timelineUntil: String(at('2026-12-03T19:04:00Z')),
    });
  });
});
