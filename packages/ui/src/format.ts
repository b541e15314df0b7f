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
  const abs = Math.abs(ticks);
  switch (units.unit) {
    case 'nanoseconds':
    case 'microseconds':
    case 'milliseconds':
    case 'seconds': {
      const f = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 }[units.unit];
      const ns = ticks * f;
      for (const [d, u] of DURATIONS) if (Math.abs(ns) >= d || d === 1) return `${trim(ns / d)} ${u}`;
      return `${ns} ns`;
    }
    case 'bytes': {
      const steps = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = ticks;
      let k = 0;
      while (Math.abs(v) >= 1024 && k < steps.length - 1) {
        v /= 1024;
        k++;
      }
      return `${trim(v)} ${steps[k]}`;
    }
    default: {
      if (abs >= 1e9) return `${trim(ticks / 1e9)} G`;
      if (abs >= 1e6) return `${trim(ticks / 1e6)} M`;
      if (abs >= 1e3) return `${trim(ticks / 1e3)} k`;
      return trim(ticks);
    }
  }
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
