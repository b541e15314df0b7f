import { describe, expect, it } from 'vitest';
import { axisIncrements, axisUnit, formatInUnit, formatValue, timeLabel } from './format.ts';

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

describe('y axis units', () => {
  const ns = { unit: 'nanoseconds' };
  const ticks = (max: number, values: number[], units = ns): string[] =>
    values.map((v) => formatInUnit(v, axisUnit(max, units)));

  it('label every tick in the unit of the axis max', () => {
    // The axis of a CPU timeline that peaks at 10 s: 0 reads "0 s", not "0 ns".
    expect(ticks(10e9, [0, 2.5e9, 5e9, 7.5e9, 10e9])).toEqual(['0 s', '2.5 s', '5 s', '7.5 s', '10 s']);
    // Under a second: all in ms, even the small ticks that alone would read in µs.
    expect(ticks(800e6, [0, 500e3, 200e6, 800e6])).toEqual(['0 ms', '0.5 ms', '200 ms', '800 ms']);
    expect(ticks(90e9, [0, 30e9, 90e9])).toEqual(['0 min', '0.5 min', '1.5 min']);
    expect(ticks(3 * 1024 ** 2, [0, 512 * 1024, 3 * 1024 ** 2], { unit: 'bytes' })).toEqual([
      '0 MiB',
      '0.5 MiB',
      '3 MiB',
    ]);
    expect(ticks(25_000, [0, 500, 25_000], { unit: 'objects' })).toEqual(['0 k', '0.5 k', '25 k']);
    expect(ticks(0, [0])).toEqual(['0 ns']);
  });

  it('takes the profile tick unit into account', () => {
    expect(axisUnit(1500, { unit: 'milliseconds' })).toEqual({ ticksPerUnit: 1000, suffix: ' s' });
    expect(axisUnit(3, { unit: 'seconds' })).toEqual({ ticksPerUnit: 1, suffix: ' s' });
  });

  it('spaces ticks at round numbers of that unit', () => {
    const s = axisUnit(10e9, ns);
    const incrs = axisIncrements(s);
    expect(incrs).toContain(2.5e9);
    expect(incrs).toContain(1e9);
    expect(incrs).not.toContain(3e9);
    expect([...incrs].sort((a, b) => a - b)).toEqual(incrs);
  });

  it('keeps single values in their own best unit', () => {
    expect(formatValue(0, ns)).toBe('0 ns');
    expect(formatValue(38e9, ns)).toBe('38 s');
    expect(formatValue(90e9, ns)).toBe('1.5 min');
    expect(formatValue(2048, { unit: 'bytes' })).toBe('2 KiB');
  });
});
