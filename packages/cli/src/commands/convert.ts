// `hotpath convert <in> --to pprof|folded|speedscope|flamebearer [-o out]`: reads any profile
// format core can sniff and writes it in another; stdout by default.
import { readFile } from 'node:fs/promises';
import * as core from '@hotpath/core';
import {
  encodePprofGzip,
  gunzipCapped,
  isGzip,
  importPprof,
  sniffPprof,
  toFlamebearer,
  type ImportedProfiles,
  type Profile,
  type ProfileType,
} from '@hotpath/core';
import { choice, CliError, integer, runCommand, writeOutput, type CommandSpec } from '../args.ts';
import type { Command } from '../command.ts';

export const OUTPUT_FORMATS = ['pprof', 'folded', 'speedscope', 'flamebearer'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

// The formats registry lands in core separately; until it exports importProfile/exportFolded/
// exportSpeedscope, pprof is read through importPprof and folded text is written here.
type Importer = (bytes: Uint8Array) => ImportedProfiles;
type Exporter = (profiles: readonly Profile[]) => string;
const registry = core as unknown as Record<string, unknown>;

/** Sniffs and imports a profile file's bytes; throws core's coded FormatError on malformed input. */
export function importBytes(bytes: Uint8Array): ImportedProfiles {
  const importProfile = registry.importProfile as Importer | undefined;
  if (typeof importProfile === 'function') {
    const imported = importProfile(bytes);
    if (imported) return imported;
  }
  // Gzip here means pprof (the only format this fallback reads).
  if (isGzip(bytes)) return importPprof(gunzipCapped(bytes));
  if (sniffPprof(bytes.subarray(0, 16))) return importPprof(bytes);
  throw new core.FormatError('unknown_format', 'not a profile format this build can read (pprof)', {
    offset: 0,
  });
}

export async function readProfiles(file: string): Promise<ImportedProfiles> {
  const bytes = new Uint8Array(await readFile(file));
  return importBytes(bytes);
}

/**
 * The profile of one sample type: `type` matches a sample type (`cpu`, `inuse_space`) or a full
 * profile type id; without it the last one, as `go tool pprof` picks.
 */
export function pickProfile(profiles: readonly Profile[], type: string | undefined): Profile {
  if (profiles.length === 0) throw new CliError('the file holds no profile');
  if (type === undefined) return profiles[profiles.length - 1]!;
  const found = profiles.find((p) => p.type.sampleType === type || p.type.id === type);
  if (found === undefined) {
    throw new CliError(
      `no sample type '${type}'; the file has ${profiles.map((p) => p.type.sampleType).join(', ')}`,
    );
  }
  return found;
}

/** Folded lines `root;...;leaf value`, one per distinct stack, in stack order. */
export function foldedText(profile: Profile): string {
  const exportFolded = registry.exportFolded as ((p: Profile) => string) | undefined;
  if (typeof exportFolded === 'function') return exportFolded(profile);
  const byStack = new Float64Array(profile.stacks.length);
  for (let i = 0; i < profile.samples.length; i++) {
    const s = profile.samples.stack[i]!;
    if (s >= 0) byStack[s]! += profile.samples.value[i]!;
  }
  const lines: string[] = [];
  for (let s = 0; s < byStack.length; s++) {
    if (byStack[s] === 0) continue;
    lines.push(`${core.stackNames(profile, s).join(';')} ${byStack[s]}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The `units` and `sampleRate` Pyroscope's /render metadata gives a profile type. */
export function renderMetadata(type: ProfileType): { units: string; sampleRate: number; name: string } {
  switch (type.sampleType) {
    case 'cpu':
      return { units: 'samples', sampleRate: 1_000_000_000, name: type.sampleType };
    case 'inuse_objects':
    case 'alloc_objects':
    case 'goroutine':
    case 'samples':
      return { units: 'objects', sampleRate: 100, name: type.sampleType };
    default:
      return { units: type.sampleUnit, sampleRate: 100, name: type.sampleType };
  }
}

/** Encodes profiles in an output format; text formats use the picked sample type. */
export function encodeAs(
  format: OutputFormat,
  profiles: readonly Profile[],
  opts: { type?: string; maxNodes?: number } = {},
): string | Uint8Array {
  switch (format) {
    case 'pprof':
      return encodePprofGzip(opts.type === undefined ? profiles : [pickProfile(profiles, opts.type)]);
    case 'folded':
      return foldedText(pickProfile(profiles, opts.type));
    case 'speedscope': {
      const exportSpeedscope = registry.exportSpeedscope as Exporter | undefined;
      if (typeof exportSpeedscope !== 'function')
        throw new CliError('speedscope output is not available in this build');
      return exportSpeedscope(opts.type === undefined ? profiles : [pickProfile(profiles, opts.type)]);
    }
    case 'flamebearer': {
      const p = pickProfile(profiles, opts.type);
      const fb = toFlamebearer(p, opts.maxNodes === undefined ? {} : { maxNodes: opts.maxNodes });
      const doc = {
        version: 1,
        flamebearer: fb,
        metadata: { format: 'single', spyName: '', ...renderMetadata(p.type) },
        timeline: null,
        groups: null,
        heatmap: null,
      };
      return JSON.stringify(doc) + '\n';
    }
  }
}

const spec: CommandSpec = {
  name: 'convert',
  summary:
    'Convert a profile file (pprof, folded, speedscope, ... sniffed from its content) to another format.',
  positionals: ['<in>'],
  options: {
    to: { type: 'string', value: 'FORMAT', help: `output format: ${OUTPUT_FORMATS.join(', ')}` },
    output: { type: 'string', short: 'o', value: 'FILE', help: 'write here instead of stdout' },
    type: {
      type: 'string',
      value: 'SAMPLE_TYPE',
      help: 'sample type to keep (e.g. cpu, inuse_space); text formats default to the last one',
    },
    'max-nodes': {
      type: 'string',
      value: 'N',
      help: 'flamebearer: truncate to about N nodes (default: all)',
    },
  },
  details: `Examples:
  hotpath convert cpu.pb.gz --to folded > cpu.folded
  hotpath convert cpu.folded --to pprof -o cpu.pb.gz
  hotpath convert heap.pb.gz --to flamebearer --type inuse_space --max-nodes 8192`,
};

export const convert: Command = {
  name: 'convert',
  summary: 'convert a profile file between pprof, folded, speedscope and flamebearer',
  run: (argv) =>
    runCommand(spec, argv, async (args, ctx) => {
      const format = choice(args, 'to', OUTPUT_FORMATS);
      const maxNodes = integer(args, 'max-nodes');
      const file = args.positionals[0]!;
      ctx.errorFile = file;
      const { profiles } = await readProfiles(file);
      ctx.errorFile = undefined;
      const type = args.values.type as string | undefined;
      const out = encodeAs(format, profiles, {
        ...(type !== undefined && { type }),
        ...(maxNodes !== undefined && { maxNodes }),
      });
      await writeOutput(out, args.values.output as string | undefined);
      return 0;
    }),
};
