// `hotpath top <file>`: the functions with the most self value, like `go tool pprof -top`
// (columns self, self%, sum%, total, total%; values with units).
import { topTable, totalValue, type Profile, type TopRow } from '@hotpath/core';
import { integer, runCommand, type CommandSpec } from '../args.ts';
import type { Command } from '../command.ts';
import { pickProfile, readProfiles } from './convert.ts';

const TIME_UNITS_NS: Record<string, number> = {
  nanoseconds: 1,
  microseconds: 1e3,
  milliseconds: 1e6,
  seconds: 1e9,
};

function trimmed(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/**
 * A value in the profile's sample unit, scaled like pprof does: 670ms, 1.50s, 6.25MB, 12.62kB.
 * `raw` prints the number and the unit's short name unscaled (670000000ns).
 */
export function formatValue(value: number, unit: string, raw = false): string {
  if (value === 0) return '0';
  const toNs = TIME_UNITS_NS[unit];
  if (toNs !== undefined) {
    if (raw)
      return `${trimmed(value)}${unit === 'nanoseconds' ? 'ns' : unit === 'microseconds' ? 'us' : unit === 'milliseconds' ? 'ms' : 's'}`;
    const ns = value * toNs;
    const a = Math.abs(ns);
    if (a === 0) return '0';
    if (a < 1e3) return `${trimmed(ns)}ns`;
    if (a < 1e6) return `${trimmed(ns / 1e3)}us`;
    if (a < 1e9) return `${trimmed(ns / 1e6)}ms`;
    if (a < 60e9) return `${trimmed(ns / 1e9)}s`;
    if (a < 3600e9) return `${trimmed(ns / 60e9)}mins`;
    return `${trimmed(ns / 3600e9)}hrs`;
  }
  if (unit === 'bytes') {
    if (raw) return `${trimmed(value)}B`;
    const a = Math.abs(value);
    const steps = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    let v = value;
    while (i < steps.length - 1 && a >= 1024 ** (i + 1)) i++;
    v = value / 1024 ** i;
    return `${trimmed(v)}${steps[i]}`;
  }
  return trimmed(value);
}

function percent(part: number, whole: number): string {
  if (whole === 0 || part === 0) return '0%';
  const p = (part / whole) * 100;
  return p === 100 ? '100%' : `${p.toFixed(2)}%`;
}

/** The table text: a header line, then one row per function, rows sorted by self (ties by name). */
export function formatTop(
  profile: Profile,
  opts: { n?: number; raw?: boolean; rows?: TopRow[] } = {},
): string {
  const rows = opts.rows ?? topTable(profile);
  const unit = profile.type.sampleUnit;
  const total = totalValue(profile);
  const shown = opts.n === undefined || opts.n === 0 ? rows : rows.slice(0, opts.n);
  const fmt = (v: number) => formatValue(v, unit, opts.raw);
  let sum = 0;
  const cells = shown.map((r) => {
    sum += r.self;
    return [
      fmt(r.self),
      percent(r.self, total),
      percent(sum, total),
      fmt(r.total),
      percent(r.total, total),
      r.name,
    ];
  });
  const header = ['self', 'self%', 'sum%', 'total', 'total%'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .slice(0, 5)
      .map((v, i) => v.padStart(widths[i]!))
      .join(' ') + (c[5] !== undefined ? `  ${c[5]}` : '');
  return (
    [
      `Type: ${profile.type.id}`,
      `Showing ${shown.length} of ${rows.length} functions, ${fmt(sum)} (${percent(sum, total)}) of ${fmt(total)} total`,
      line(header),
      ...cells.map(line),
    ].join('\n') + '\n'
  );
}

const spec: CommandSpec = {
  name: 'top',
  summary: 'Print the functions with the most self value, like `go tool pprof -top`.',
  positionals: ['<file>'],
  options: {
    n: { type: 'string', value: 'N', help: 'rows to show, 0 for all', default: '20' },
    type: {
      type: 'string',
      value: 'SAMPLE_TYPE',
      help: 'sample type (e.g. cpu, alloc_space); default: the last one',
    },
    raw: {
      type: 'boolean',
      help: 'print values unscaled in the sample unit (670000000ns rather than 670ms)',
    },
  },
  details: `self = value of samples where the function is the leaf; total = value of samples with the
function anywhere on the stack (a recursive function counts once per stack).`,
};

export const top: Command = {
  name: 'top',
  summary: "print a profile file's top functions by self value",
  run: (argv) =>
    runCommand(spec, argv, async (args, ctx) => {
      const n = integer(args, 'n');
      const file = args.positionals[0]!;
      ctx.errorFile = file;
      const { profiles } = await readProfiles(file);
      const profile = pickProfile(profiles, args.values.type as string | undefined);
      process.stdout.write(
        formatTop(profile, { ...(n !== undefined && { n }), raw: args.values.raw === true }),
      );
      return 0;
    }),
};
