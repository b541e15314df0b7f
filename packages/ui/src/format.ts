// Number formatting for values in a profile's unit (ticks) and shares.

/** How to read a profile's ticks: from /render metadata (units, sampleRate) or the profile type's sample unit. */
export interface Units {
  /** 'nanoseconds' | 'bytes' | 'objects' | 'samples' | 'count' ... */
  readonly unit: string;
}

export function unitsOfProfileType(profileTypeId: string): Units {
  const parts = profileTypeId.split(':');
  return { unit: parts[2] || 'count' };
}

const DURATIONS: readonly [number, string][] = [
  [86400e9, 'd'],
  [3600e9, 'h'],
  [60e9, 'min'],
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];

export function formatValue(ticks: number, units: Units): string {
  if (!Number.isFinite(ticks)) return '–';
  return formatInUnit(ticks, axisUnit(Math.abs(ticks), units));
}

/** One display unit: `ticksPerUnit` of the profile's ticks make one `suffix` (' s', ' KiB', ' k', ''). */
export interface DisplayUnit {
  readonly ticksPerUnit: number;
  readonly suffix: string;
}

const TICK_NS: Readonly<Record<string, number>> = {
  nanoseconds: 1,
  microseconds: 1e3,
  milliseconds: 1e6,
  seconds: 1e9,
};

/**
 * The largest unit in which `maxTicks` is at least 1 (ns for 0). A timeline's y axis takes it from
 * its scale's max so every tick reads in one unit: 0 s, 2.5 s, 5 s, not 0 ns beside 10 s.
 */
export function axisUnit(maxTicks: number, units: Units): DisplayUnit {
  const abs = Math.abs(maxTicks);
  const ns = TICK_NS[units.unit];
  if (ns !== undefined) {
    const d = DURATIONS.find(([dNs]) => abs * ns >= dNs) ?? DURATIONS[DURATIONS.length - 1]!;
    return { ticksPerUnit: d[0] / ns, suffix: ` ${d[1]}` };
  }
  if (units.unit === 'bytes') {
    const steps = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let k = 0;
    while (abs >= 1024 ** (k + 1) && k < steps.length - 1) k++;
    return { ticksPerUnit: 1024 ** k, suffix: ` ${steps[k]}` };
  }
  if (abs >= 1e9) return { ticksPerUnit: 1e9, suffix: ' G' };
  if (abs >= 1e6) return { ticksPerUnit: 1e6, suffix: ' M' };
  if (abs >= 1e3) return { ticksPerUnit: 1e3, suffix: ' k' };
  return { ticksPerUnit: 1, suffix: '' };
}

export function formatInUnit(ticks: number, unit: DisplayUnit): string {
  if (!Number.isFinite(ticks)) return '–';
  return `${trim(ticks / unit.ticksPerUnit)}${unit.suffix}`;
}

/** Tick spacings that are round in `unit` (1, 2, 2.5, 5 × 10^k units), in ticks, ascending. */
export function axisIncrements(unit: DisplayUnit): number[] {
  const out: number[] = [];
  for (let k = -3; k <= 12; k++)
    for (const m of [1, 2, 2.5, 5]) out.push(Number((m * 10 ** k).toPrecision(3)) * unit.ticksPerUnit);
  return out;
}

/** Three significant digits at most, without trailing zeros: 38 → "38", 1.5 → "1.5", 123.4 → "123". */
function trim(v: number): string {
  const a = Math.abs(v);
  const fixed = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

export function formatPercent(share: number): string {
  const p = share * 100;
  if (p !== 0 && Math.abs(p) < 0.01) return p < 0 ? '>-0.01%' : '<0.01%';
  return `${p.toFixed(2)}%`;
}

export function formatSignedPercent(change: number): string {
  return `${change > 0 ? '+' : ''}${(change * 100).toFixed(2)}%`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A timeline tick label in local time, precise to the tick increment (s): seconds when ticks are
 * under a minute apart, the month/day on ticks a day apart and on every local midnight.
 */
export function timeLabel(unixS: number, incrementS: number): string {
  const d = new Date(unixS * 1000);
  const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
  if (incrementS >= 86_400 || midnight) return `${d.getMonth() + 1}/${d.getDate()}`;
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return incrementS < 60 ? `${hm}:${pad2(d.getSeconds())}` : hm;
}
