// A tiny argv layer shared by the commands: node:util parseArgs plus generated --help, usage
// errors (exit 2) and coded errors reported with the file and the facts that locate the problem.
import { parseArgs } from 'node:util';
import { FormatError } from '@hotpath/core';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Shown as `--name VALUE` in --help. */
  readonly value?: string;
  readonly help: string;
  readonly default?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in the usage line, e.g. ['<file>']; `[x]` marks an optional one. */
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Paragraphs after the options (examples, notes). */
  readonly details?: string;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** A wrong invocation: printed with the usage line, exit code 2. */
export class UsageError extends Error {}

/** A failure with a clear message (server unreachable, HTTP error...): exit code 1. */
export class CliError extends Error {}

export function helpText(spec: CommandSpec): string {
  const lines = [
    `Usage: hotpath ${spec.name}${spec.positionals.map((p) => ` ${p}`).join('')} [options]`,
    '',
    spec.summary,
    '',
  ];
  const rows = Object.entries({
    ...spec.options,
    help: { type: 'boolean', short: 'h', help: 'show this help' } as OptionSpec,
  }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return [flag, `${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  lines.push('Options:', ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`));
  if (spec.details) lines.push('', spec.details.trim());
  return lines.join('\n') + '\n';
}

export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options))
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, o] of Object.entries(spec.options))
    values[name] = (parsed.values[name] as string | boolean | undefined) ?? o.default;
  values.help = parsed.values.help as boolean | undefined;
  const required = spec.positionals.filter((p) => !p.startsWith('['));
  if (!values.help) {
    if (parsed.positionals.length < required.length)
      throw new UsageError(`missing ${required[parsed.positionals.length]}`);
    if (parsed.positionals.length > spec.positionals.length) {
      throw new UsageError(`unexpected argument '${parsed.positionals[spec.positionals.length]}'`);
    }
  }
  return { values, positionals: parsed.positionals };
}

/** A string option that must be present. */
export function requireString(args: ParsedArgs, name: string): string {
  const v = args.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** One of a fixed set of choices. */
export function choice<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T {
  const v = requireString(args, name);
  if (!(choices as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not '${v}'`);
  return v as T;
}

/** A non-negative integer option (or its default). */
export function integer(args: ParsedArgs, name: string): number | undefined {
  const v = args.values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} must be a non-negative integer, not '${String(v)}'`);
  }
  return n;
}

/** `file: message (code, offset 12)` for a coded core error; the message alone otherwise. */
export function describeError(e: unknown, file?: string): string {
  const where = file ? `${file}: ` : '';
  if (e instanceof FormatError) {
    const facts = Object.entries(e.details)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return `${where}${e.message} [${e.code}${facts ? `; ${facts}` : ''}]`;
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${where}no such file`;
    if (code === 'EISDIR') return `${where}is a directory`;
    if (code === 'EACCES') return `${where}permission denied`;
    return `${where}${e.message}`;
  }
  return `${where}${String(e)}`;
}

/**
 * Runs a command body with the shared conventions: --help prints help (exit 0), usage errors print
 * the message and the usage line (exit 2), any other error prints `hotpath <name>: <message>`
 * (exit 1). `body` may set `errorFile` on the context to name the file an error is about.
 */
export async function runCommand(
  spec: CommandSpec,
  argv: readonly string[],
  body: (args: ParsedArgs, ctx: { errorFile?: string }) => Promise<number>,
): Promise<number> {
  const ctx: { errorFile?: string } = {};
  try {
    const args = parseCommandArgs(spec, argv);
    if (args.values.help) {
      process.stdout.write(helpText(spec));
      return 0;
    }
    return await body(args, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(
        `hotpath ${spec.name}: ${e.message}\n${helpText(spec).split('\n')[0]}\nRun 'hotpath ${spec.name} --help' for the options.\n`,
      );
      return 2;
    }
    process.stderr.write(`hotpath ${spec.name}: ${describeError(e, ctx.errorFile)}\n`);
    return 1;
  }
}

/** Writes to a file, or to stdout when `out` is undefined or '-', waiting for the flush. */
export async function writeOutput(data: string | Uint8Array, out: string | undefined): Promise<void> {
  if (out === undefined || out === '-') {
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(data, (err) => (err ? reject(err) : resolve())),
    );
    return;
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(out, data);
}
