// `hotpath convert <in> --to pprof|folded|speedscope|flamebearer [-o out]`: reads any profile
// format core can sniff and writes it in another; stdout by default.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import {
  encodePprofGzip,
  exportFolded,
  exportSpeedscope,
  FormatError,
  importProfile,
  isGzip,
  toFlamebearer,
  type ImportedProfiles,
  type Profile,
  type ProfileType,
} from '@hotpath/core';
import { choice, CliError, integer, runCommand, writeOutput, type CommandSpec } from '../args.ts';
import type { Command } from '../command.ts';

export const OUTPUT_FORMATS = ['pprof', 'folded', 'speedscope', 'flamebearer'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** node:zlib for the registry's gunzip (faster than the portable one), honouring its size cap. */
function gunzip(bytes: Uint8Array, maxBytes: number | undefined): Uint8Array {
  return new Uint8Array(gunzipSync(bytes, maxBytes === undefined ? {} : { maxOutputLength: maxBytes }));
}

/**
 * Sniffs and imports a profile file's bytes; throws core's coded FormatError on malformed input.
 * A binary (non-text) input no sniffer claims is read as pprof, so a pprof that trips the sniffer
 * still imports, and a broken one reports where its protobuf breaks rather than "unknown format".
 */
export function importBytes(bytes: Uint8Array, filename?: string): ImportedProfiles {
  const opts = { gunzip, ...(filename !== undefined && { filename }) };
  try {
    return importProfile(bytes, opts);
  } catch (e) {
    if (!(e instanceof FormatError) || e.code !== 'unknown_format') throw e;
    const plain = isGzip(bytes) ? gunzip(bytes, undefined) : bytes;
    const binary = plain.subarray(0, 64).some((b) => b < 0x09 || (b > 0x0d && b < 0x20));
    if (!binary) throw e;
    return importProfile(bytes, { ...opts, format: 'pprof' });
  }
}

export async function readProfiles(file: string): Promise<ImportedProfiles> {
  const bytes = new Uint8Array(await readFile(file));
  return importBytes(bytes, file);
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

/** Folded lines `root;...;leaf value`, one per distinct stack. */
export function foldedText(profile: Profile): string {
  const text = exportFolded(profile);
  return text === '' || text.endsWith('\n') ? text : text + '\n';
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
    case 'speedscope':
      return exportSpeedscope(pickProfile(profiles, opts.type));
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
