// The format registry: sniffs what a byte buffer is and imports it. gzip is unwrapped first (by
// its magic bytes 1f 8b, with a decompressed-size cap), then the formats are tried in this order:
//
//   1. speedscope  JSON object naming the speedscope schema; no other format starts with '{'.
//   2. trie        binary node stream starting with byte 0 (empty root name) whose names hold ';'.
//   3. tree        the same node stream whose names never hold ';' (frame names, not key fragments).
//   4. pprof       protobuf: top-level fields 1-14 with their expected wire types. Text cannot pass:
//                  its first byte would be a tag with a wrong wire type or an invalid ValueType.
//   5. folded      text where every complete line ends in " <count>".
//   6. lines       text stacks joined by ';' where some line does not end in a count.
//
// Sniffers look at a head of about SNIFF_BYTES (see sniffHead); the file name is never used to decide, so a file named
// "unknown" imports the same as one named "cpu.pb.gz".

import { FormatError } from '../errors.ts';
import type { ImportedProfiles, ProfileType } from '../model.ts';
import { importFolded, sniffFolded } from './folded.ts';
import { gunzipCapped, isGzip } from './gzip.ts';
import { importLines, sniffLines } from './lines.ts';
import { importPprof, sniffPprof } from './pprof.ts';
import { importSpeedscope, sniffSpeedscope } from './speedscope.ts';
import { importTree, sniffTree } from './tree.ts';
import { importTrie, sniffTrie } from './trie.ts';

export const SNIFF_BYTES = 4096;

/**
 * The bytes sniffers look at: the first SNIFF_BYTES, extended to the end of the first line when
 * that line is longer (a folded file with a 1,000-frame stack has one 10 KB line), up to 1 MiB.
 */
export function sniffHead(bytes: Uint8Array): Uint8Array {
  let end = Math.min(bytes.length, SNIFF_BYTES);
  if (bytes.subarray(0, end).indexOf(0x0a) === -1 && end < bytes.length) {
    const nl = bytes.subarray(0, Math.min(bytes.length, 1 << 20)).indexOf(0x0a, end);
    end = nl === -1 ? Math.min(bytes.length, 1 << 20) : nl + 1;
  }
  return bytes.subarray(0, end);
}

export interface ImportOptions {
  /** Used in error messages only. */
  filename?: string;
  /** Cap on gunzipped size; default 256 MiB. */
  maxDecompressedBytes?: number;
  /** Skips sniffing (e.g. Pyroscope's `format=trie`); one of FORMAT_NAMES. */
  format?: string;
  /** Profile type for formats that carry none (folded, lines, trie, tree). */
  type?: ProfileType;
  /** `display-name` per pprof sample type (Pyroscope sample_type_config). */
  displayNames?: Readonly<Record<string, string>>;
  /** Faster host gunzip (e.g. node:zlib), honouring maxBytes. */
  gunzip?: (bytes: Uint8Array, maxBytes: number | undefined) => Uint8Array;
}

interface FormatEntry {
  readonly name: string;
  readonly sniff: (head: Uint8Array) => boolean;
  readonly import: (bytes: Uint8Array, opts: ImportOptions) => ImportedProfiles;
}

/** In sniffing order (see the top of this file for why this order). */
const FORMATS: readonly FormatEntry[] = [
  { name: 'speedscope', sniff: sniffSpeedscope, import: (b) => importSpeedscope(b) },
  { name: 'trie', sniff: sniffTrie, import: (b, o) => importTrie(b, o) },
  { name: 'tree', sniff: sniffTree, import: (b, o) => importTree(b, o) },
  { name: 'pprof', sniff: sniffPprof, import: (b, o) => importPprof(b, o) },
  { name: 'folded', sniff: sniffFolded, import: (b, o) => importFolded(b, o) },
  { name: 'lines', sniff: sniffLines, import: (b, o) => importLines(b, o) },
];

export const FORMAT_NAMES: readonly string[] = FORMATS.map((f) => f.name);

/** The sniffer of each format, by name, in sniffing order (for tests and diagnostics). */
export const SNIFFERS: ReadonlyArray<readonly [string, (head: Uint8Array) => boolean]> = FORMATS.map(
  (f) => [f.name, f.sniff] as const,
);

function unwrap(bytes: Uint8Array, opts: ImportOptions): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  return opts.gunzip
    ? opts.gunzip(bytes, opts.maxDecompressedBytes)
    : gunzipCapped(bytes, opts.maxDecompressedBytes);
}

/** The name of the format `bytes` look like (gzip looked through), or null. Throws only on corrupt gzip. */
export function sniffFormat(
  bytes: Uint8Array,
  opts: Pick<ImportOptions, 'maxDecompressedBytes' | 'gunzip'> = {},
): string | null {
  const inner = unwrap(bytes, opts);
  const head = sniffHead(inner);
  return FORMATS.find((f) => f.sniff(head))?.name ?? null;
}

/** Imports any supported format; throws FormatError 'unknown_format' when no format claims the bytes. */
export function importProfile(bytes: Uint8Array, opts: ImportOptions = {}): ImportedProfiles {
  const where = opts.filename ? ` (${opts.filename})` : '';
  if (bytes.length === 0)
    throw new FormatError('empty_input', `input${where} is empty (0 bytes)`, { length: 0 });
  const inner = unwrap(bytes, opts);
  if (opts.format !== undefined) {
    const f = FORMATS.find((x) => x.name === opts.format);
    if (f === undefined) {
      throw new FormatError(
        'unknown_format',
        `unknown format name ${JSON.stringify(opts.format)}; known: ${FORMAT_NAMES.join(', ')}`,
        {
          format: opts.format,
        },
      );
    }
    return f.import(inner, opts);
  }
  const head = sniffHead(inner);
  const f = FORMATS.find((x) => x.sniff(head));
  if (f === undefined) {
    const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FormatError(
      'unknown_format',
      `no format recognises the input${where}: ${inner.length} bytes starting ${hex}`,
      {
        length: inner.length,
      },
    );
  }
  return f.import(inner, opts);
}
