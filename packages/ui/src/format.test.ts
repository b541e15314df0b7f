import { describe, expect, it } from 'vitest';
import { timeLabel } from './format.ts';

// Local times, so the expectations hold in any time zone.
const at = (...parts: [number, number, number, number, number, number]): number =>
  new Date(...parts).getTime() / 1000;

describe('timeline tick labels', () => {
  it('are as precise as the ticks are apart', () => {
    expect(timeLabel(at(2026, 10, 26, 4, 41, 45), 15)).toBe('04:41:45');
    expect(timeLabel(at(2026, 10, 26, 4, 42, 0), 60)).toBe('04:42');
    expect(timeLabel(at(2026, 10, 26, 16, 0, 0), 3600)).toBe('16:00');
    expect(timeLabel(at(2026, 10, 27, 0, 0, 0), 86_400)).toBe('11/27');
  });

  it('name the day at local midnight, whatever the increment', () => {
    expect(timeLabel(at(2026, 10, 27, 0, 0, 0), 6 * 3600)).toBe('11/27');
    expect(timeLabel(at(2026, 10, 27, 0, 0, 0), 30)).toBe('11/27');
  });
});
