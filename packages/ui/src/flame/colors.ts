// Colours of flame graph nodes: by package (single views) and by change (diff views). Pure.

import { frameKindOf } from '@hotpath/core';

export type Theme = 'light' | 'dark';
export type DiffMode = 'relative' | 'absolute';

/**
 * The package of a frame name, used to colour related frames alike:
 *  "github.com/a/b.(*T).M" → "github.com/a/b", "lib.utility.find" → "lib.utility",
 *  "std::vec::push" → "std::vec", "app.py work" (py-spy "file function") → "app.py", "main" → "main".
 */
export function packageOf(name: string): string {
  const space = name.indexOf(' ');
  if (space > 0) return name.slice(0, space);
  const slash = name.lastIndexOf('/');
  if (slash >= 0) {
    const dot = name.indexOf('.', slash);
    return dot > 0 ? name.slice(0, dot) : name;
  }
  const colons = name.lastIndexOf('::');
  if (colons > 0) return name.slice(0, colons);
  const dot = name.lastIndexOf('.');
  if (dot > 0) return name.slice(0, dot);
  return name;
}

/** FNV-1a over UTF-16 code units. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Warm flame palette (hue, saturation %); lightness depends on the theme. */
const PALETTE: readonly (readonly [number, number])[] = [
  [6, 78],
  [18, 85],
  [28, 90],
  [38, 92],
  [46, 90],
  [16, 70],
  [0, 65],
  [350, 60],
  [24, 60],
  [34, 75],
  [52, 80],
  [10, 85],
];

/**
 * Cool hues for frames that are not Python code (their kind is a ` [kind]` name suffix, core
 * frame-kind.ts, e.g. from an eBPF profiler), so native and kernel time stands apart from the warm
 * Python frames.
 */
const KIND_HUES: Readonly<Record<string, readonly [number, number]>> = {
  native: [188, 50],
  kernel: [215, 60],
};
const OTHER_KIND_HUE = [265, 40] as const;

export function packageColor(name: string, theme: Theme): string {
  const kind = frameKindOf(name);
  const [h, s] =
    kind === 'python'
      ? PALETTE[hashString(packageOf(name)) % PALETTE.length]!
      : (KIND_HUES[kind] ?? OTHER_KIND_HUE);
  return `hsl(${h} ${s}% ${theme === 'dark' ? 42 : 64}%)`;
}

/**
 * Signed change of a node between baseline (left) and comparison (right), in [-1, 1]:
 *  relative: change of the node's share of its side's total, relative to the baseline share
 *            (0.10 → 0.15 is +0.5; a node absent from the baseline is +1);
 *  absolute: change of share in percentage points divided by `absoluteScale` (the largest change).
 */
export function diffIntensity(
  totalLeft: number,
  totalRight: number,
  leftTicks: number,
  rightTicks: number,
  mode: DiffMode,
  absoluteScale = 1,
): number {
  const l = leftTicks > 0 ? totalLeft / leftTicks : 0;
  const r = rightTicks > 0 ? totalRight / rightTicks : 0;
  if (mode === 'absolute') return clamp((r - l) / (absoluteScale || 1));
  if (l === 0) return r > 0 ? 1 : 0;
  return clamp((r - l) / l);
}

function clamp(v: number): number {
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

/** Neutral grey at 0, red for +1 (slower: more time), green for -1 (faster). Quantised to 5% steps. */
export function diffColor(intensity: number, theme: Theme): string {
  const t = Math.round(clamp(intensity) * 20) / 20;
  const base = theme === 'dark' ? [90, 90, 96] : [200, 200, 206];
  const target =
    t >= 0
      ? theme === 'dark'
        ? [200, 40, 40]
        : [230, 60, 60]
      : theme === 'dark'
        ? [40, 160, 70]
        : [70, 190, 100];
  const a = Math.abs(t);
  const mix = base.map((b, k) => Math.round(b + (target[k]! - b) * a));
  return `rgb(${mix[0]},${mix[1]},${mix[2]})`;
}

/** Legend stops from -1 to +1 for a diff legend. */
export function diffLegend(theme: Theme, steps = 11): { intensity: number; color: string }[] {
  const out: { intensity: number; color: string }[] = [];
  for (let k = 0; k < steps; k++) {
    const intensity = -1 + (2 * k) / (steps - 1);
    out.push({ intensity, color: diffColor(intensity, theme) });
  }
  return out;
}
