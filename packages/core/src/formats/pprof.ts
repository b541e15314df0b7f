// pprof importer. Spec: https://github.com/google/pprof/blob/main/proto/profile.proto
//
// Built for ingest throughput (benchmark B2): one scan of the top-level message records where each
// repeated field lives, then strings, functions and locations are decoded once, and samples are
// decoded in a single tight loop straight into struct-of-arrays columns. Location chains are
// interned into the stack table through an open-addressing hash keyed by (parent stack, frame),
// so no object is allocated per sample. Every sample type becomes one Profile; all of them share
// the frame, stack, sample-stack and label-set columns.

import { FormatError } from '../errors.ts';
import {
  makeProfileType,
  normalizeLabels,
  formatLabels,
  type ImportedProfiles,
  type Labels,
  type Profile,
  type ProfileType,
} from '../model.ts';
import { gunzipCapped, isGzip } from './gzip.ts';
import { pprofMetricName } from './pprof-metric.ts';
import {
  LEN,
  VARINT,
  readInt64,
  readLenEnd,
  readVarint,
  skipField,
  truncated,
  wireTypeError,
  type Cursor,
} from './proto.ts';
import { decodeAscii, decodeUtf8 } from './utf8.ts';

export interface PprofDecodeOptions {
  /** Cap on the gunzipped size (gzip input only); default 256 MiB. */
  maxDecompressedBytes?: number;
  /** Faster gunzip supplied by the host (e.g. node:zlib on the server); must honour maxBytes. */
  gunzip?: (bytes: Uint8Array, maxBytes: number | undefined) => Uint8Array;
  /** `display-name` per sample type from a Pyroscope sample_type_config; picks the `__name__`. */
  displayNames?: Readonly<Record<string, string>>;
}

// Top-level Profile fields.
const F_SAMPLE_TYPE = 1;
const F_SAMPLE = 2;
const F_MAPPING = 3;
const F_LOCATION = 4;
const F_FUNCTION = 5;
const F_STRING = 6;
const F_DROP_FRAMES = 7;
const F_KEEP_FRAMES = 8;
const F_TIME = 9;
const F_DURATION = 10;
const F_PERIOD_TYPE = 11;
const F_PERIOD = 12;
const F_COMMENT = 13;
const F_DEFAULT_SAMPLE_TYPE = 14;

/** Expected wire type of each known top-level field (index = field number). */
const TOP_WIRE: readonly (number | undefined)[] = [
  undefined,
  LEN,
  LEN,
  LEN,
  LEN,
  LEN,
  LEN,
  VARINT,
  VARINT,
  VARINT,
  VARINT,
  LEN,
  VARINT,
  VARINT,
  VARINT,
];

/** Growable list of [start, end) byte ranges. */
class Ranges {
  data: Int32Array;
  length = 0;
  constructor(capacity = 16) {
    this.data = new Int32Array(capacity * 2);
  }
  push(start: number, end: number): void {
    if (this.length * 2 === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length * 2] = start;
    this.data[this.length * 2 + 1] = end;
    this.length++;
  }
}

/** Maps pprof ids (uint64, usually dense from 1) to table indexes; -1 when unknown. */
class IdIndex {
  /** id → index for dense ids (read directly by the sample loop); null when ids are sparse. */
  readonly dense: Int32Array | null = null;
  private readonly sparse: Map<number, number> | null = null;

  constructor(ids: Float64Array) {
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
    if (max <= ids.length * 4 + 1024) {
      const d = new Int32Array(max + 1).fill(-1);
      for (let i = 0; i < ids.length; i++) if (d[ids[i]!] === -1) d[ids[i]!] = i;
      this.dense = d;
    } else {
      const m = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) if (!m.has(ids[i]!)) m.set(ids[i]!, i);
      this.sparse = m;
    }
  }

  get(id: number): number {
    if (this.dense !== null) return id < this.dense.length ? this.dense[id]! : -1;
    return this.sparse!.get(id) ?? -1;
  }
}

interface Functions {
  readonly index: IdIndex;
  readonly name: string[];
  readonly file: string[];
  /** Canonical number of each function's (name, file) pair. */
  readonly canon: Int32Array;
  /** (canonical function, line) → frame index. */
  readonly frames: PairMap;
}

/** One UTF-16 code unit per byte (Latin-1). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = [];
  for (let a = start; a < end; a += 8192) {
    parts.push(
      String.fromCharCode.apply(null, bytes.subarray(a, Math.min(end, a + 8192)) as unknown as number[]),
    );
  }
  return parts.join('');
}

function stringIndexError(field: string, index: number, count: number): FormatError {
  return new FormatError(
    'pprof_string_index',
    `pprof: ${field} refers to string ${index} but the string table has ${count} entries`,
    {
      field,
      index,
      length: count,
    },
  );
}

/** True when `head` starts like an uncompressed pprof message (see registry.ts for the order). */
export function sniffPprof(head: Uint8Array): boolean {
  const c: Cursor = { bytes: head, pos: 0, format: 'pprof' };
  const end = head.length;
  let sawTable = false;
  try {
    while (c.pos < end) {
      const tag = readVarint(c, end);
      const field = tag >>> 3;
      const wt = tag & 7;
      const expected = TOP_WIRE[field];
      if (expected === undefined) return false;
      if (wt !== expected && !(field === F_COMMENT && wt === LEN)) return false;
      if (wt !== LEN) {
        readVarint(c, end);
        continue;
      }
      const len = readVarint(c, end);
      const payloadStart = c.pos;
      const payloadEnd = Math.min(end, c.pos + len);
      if (field === F_SAMPLE_TYPE || field === F_PERIOD_TYPE) {
        // A ValueType holds only varint fields 1 and 2: rules out text that happens to start with '\n'.
        while (c.pos < payloadEnd) {
          const t = readVarint(c, end);
          if (t !== 0x08 && t !== 0x10) return false;
          readVarint(c, end);
        }
      }
      if (field <= F_STRING) sawTable = true;
      c.pos = payloadStart + len;
    }
  } catch {
    // The head is a prefix of the file: running off its end is fine if everything before parsed.
    return sawTable;
  }
  return sawTable;
}

/** Decodes a pprof (gzip auto-detected by its magic bytes 1f 8b) into one Profile per sample type. */
export function decodePprof(input: Uint8Array, opts: PprofDecodeOptions = {}): Profile[] {
  const bytes = isGzip(input)
    ? opts.gunzip
      ? opts.gunzip(input, opts.maxDecompressedBytes)
      : gunzipCapped(input, opts.maxDecompressedBytes)
    : input;
  return new PprofDecoder(bytes, opts).decode();
}

export function importPprof(bytes: Uint8Array, opts: PprofDecodeOptions = {}): ImportedProfiles {
  return { format: 'pprof', profiles: decodePprof(bytes, opts) };
}

class PprofDecoder {
  private readonly c: Cursor;
  private readonly sampleTypes = new Ranges();
  private readonly samples = new Ranges(256);
  private readonly mappings = new Ranges();
  private readonly locations = new Ranges();
  private readonly functions = new Ranges();
  private readonly stringRanges = new Ranges();
  private readonly stringRefs: Array<[string, number]> = [];
  private periodType: [number, number] | null = null;
  private timeNs = 0;
  private durationNs = 0;
  private period = 0;
  private strings: string[] = [];

  // Frame table under construction.
  private readonly frameName: string[] = [];
  private readonly frameFile: string[] = [];
  private frameLine = new Int32Array(256);

  constructor(
    bytes: Uint8Array,
    private readonly opts: PprofDecodeOptions,
  ) {
    this.c = { bytes, pos: 0, format: 'pprof' };
  }

  decode(): Profile[] {
    this.scanTopLevel();
    this.decodeStrings();
    this.validateRefs();
    if (this.sampleTypes.length === 0) {
      throw new FormatError('pprof_no_sample_type', 'pprof: the profile has no sample_type', {
        field: 'sample_type',
      });
    }
    const types = this.decodeTypes();
    this.validateMappings();
    const fn = this.decodeFunctions();
    const loc = this.decodeLocations(fn);
    return this.decodeSamples(types, loc);
  }

  /** Pass 1: record where each repeated field is; read the scalar fields. */
  private scanTopLevel(): void {
    const c = this.c;
    const end = c.bytes.length;
    while (c.pos < end) {
      const at = c.pos;
      const tag = readVarint(c, end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 0)
        throw new FormatError('pprof_bad_field', `pprof: field number 0 at offset ${at}`, { offset: at });
      const expected = TOP_WIRE[field];
      if (expected !== undefined && wt !== expected && !(field === F_COMMENT && wt === LEN)) {
        throw wireTypeError(c, at, field, wt, expected);
      }
      switch (field) {
        case F_SAMPLE_TYPE:
        case F_SAMPLE:
        case F_MAPPING:
        case F_LOCATION:
        case F_FUNCTION:
        case F_STRING: {
          const e = readLenEnd(c, end, 'top-level field', field, 'payload');
          const list =
            field === F_SAMPLE
              ? this.samples
              : field === F_LOCATION
                ? this.locations
                : field === F_FUNCTION
                  ? this.functions
                  : field === F_STRING
                    ? this.stringRanges
                    : field === F_MAPPING
                      ? this.mappings
                      : this.sampleTypes;
          list.push(c.pos, e);
          c.pos = e;
          break;
        }
        case F_PERIOD_TYPE: {
          const e = readLenEnd(c, end, 'period_type');
          this.periodType = this.readValueType(e, 'period_type');
          break;
        }
        case F_TIME:
          this.timeNs = readInt64(c, end);
          break;
        case F_DURATION:
          this.durationNs = readInt64(c, end);
          break;
        case F_PERIOD:
          this.period = readInt64(c, end);
          break;
        case F_DROP_FRAMES:
          this.stringRefs.push(['drop_frames', readVarint(c, end)]);
          break;
        case F_KEEP_FRAMES:
          this.stringRefs.push(['keep_frames', readVarint(c, end)]);
          break;
        case F_DEFAULT_SAMPLE_TYPE:
          this.stringRefs.push(['default_sample_type', readVarint(c, end)]);
          break;
        case F_COMMENT:
          if (wt === LEN) {
            const e = readLenEnd(c, end, 'comment');
            while (c.pos < e) this.stringRefs.push(['comment', readVarint(c, e)]);
          } else {
            this.stringRefs.push(['comment', readVarint(c, end)]);
          }
          break;
        default:
          skipField(c, wt, end, field);
      }
    }
  }

  private readValueType(end: number, what: string): [number, number] {
    const c = this.c;
    let type = 0;
    let unit = 0;
    while (c.pos < end) {
      const at = c.pos;
      const tag = readVarint(c, end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if ((field === 1 || field === 2) && wt !== VARINT) throw wireTypeError(c, at, field, wt, VARINT);
      if (field === 1) type = readVarint(c, end);
      else if (field === 2) unit = readVarint(c, end);
      else skipField(c, wt, end, field);
    }
    this.stringRefs.push([`${what}.type`, type], [`${what}.unit`, unit]);
    return [type, unit];
  }

  /**
   * Decodes every string once. Encoders write the table as one run, so when it is contiguous the
   * run is turned into one Latin-1 string and ASCII entries become substrings of it (no per-string
   * decoder call); other entries go through the strict UTF-8 decoder.
   */
  private decodeStrings(): void {
    const { bytes } = this.c;
    const r = this.stringRanges;
    const d = r.data;
    const n = r.length;
    const out = new Array<string>(n);
    let lo = n > 0 ? d[0]! : 0;
    let hi = lo;
    let payload = 0;
    for (let i = 0; i < n; i++) {
      if (d[2 * i]! < lo) lo = d[2 * i]!;
      if (d[2 * i + 1]! > hi) hi = d[2 * i + 1]!;
      payload += d[2 * i + 1]! - d[2 * i]!;
    }
    const useSpan = n > 16 && hi - lo <= payload * 2 + 64;
    let spanAscii = useSpan;
    if (useSpan) {
      for (let k = lo; k < hi; k++) {
        if (bytes[k]! >= 0x80) {
          spanAscii = false;
          break;
        }
      }
    }
    const span = !useSpan ? null : spanAscii ? decodeAscii(bytes, lo, hi) : latin1(bytes, lo, hi);
    for (let i = 0; i < n; i++) {
      const a = d[2 * i]!;
      const b = d[2 * i + 1]!;
      let ascii = spanAscii;
      if (span !== null && !spanAscii) {
        ascii = true;
        for (let k = a; k < b; k++) {
          if (bytes[k]! >= 0x80) {
            ascii = false;
            break;
          }
        }
      }
      const s = ascii ? span!.substring(a - lo, b - lo) : decodeUtf8(bytes, a, b);
      if (s === null) {
        throw new FormatError('invalid_utf8', `pprof: string_table[${i}] is not valid UTF-8 (offset ${a})`, {
          index: i,
          offset: a,
        });
      }
      out[i] = s;
    }
    if (out.length > 0 && out[0] !== '') {
      throw new FormatError(
        'pprof_string_table_start',
        `pprof: string_table[0] must be "" but is ${JSON.stringify(out[0]!.slice(0, 40))}`,
        {
          index: 0,
        },
      );
    }
    this.strings = out;
  }

  /** strings[index]; an out-of-range index is reported as field `what[i].sub` (`what` alone when i = -1). */
  private str(index: number, what: string, i = -1, sub = ''): string {
    const s = this.strings[index];
    if (s === undefined)
      throw stringIndexError(i === -1 ? what : `${what}[${i}].${sub}`, index, this.strings.length);
    return s;
  }

  private validateRefs(): void {
    for (const [field, index] of this.stringRefs) this.str(index, field);
  }

  private decodeTypes(): Array<[string, string]> {
    const c = this.c;
    const out: Array<[string, string]> = [];
    for (let i = 0; i < this.sampleTypes.length; i++) {
      c.pos = this.sampleTypes.data[2 * i]!;
      const [t, u] = this.readValueType(this.sampleTypes.data[2 * i + 1]!, `sample_type[${i}]`);
      out.push([this.str(t, 'sample_type', i, 'type'), this.str(u, 'sample_type', i, 'unit')]);
    }
    return out;
  }

  /** Mappings are not used by the model; their string indexes are still checked, as Pyroscope does. */
  private validateMappings(): void {
    const c = this.c;
    for (let i = 0; i < this.mappings.length; i++) {
      c.pos = this.mappings.data[2 * i]!;
      const end = this.mappings.data[2 * i + 1]!;
      while (c.pos < end) {
        const at = c.pos;
        const tag = readVarint(c, end);
        const field = tag >>> 3;
        const wt = tag & 7;
        if ((field === 5 || field === 6) && wt === VARINT) {
          this.str(readVarint(c, end), 'mapping', i, field === 5 ? 'filename' : 'build_id');
        } else if (field >= 1 && field <= 10 && wt !== VARINT) {
          throw wireTypeError(c, at, field, wt, VARINT);
        } else {
          skipField(c, wt, end, field);
        }
      }
    }
  }

  /**
   * Functions: id → (name, file) and a canonical number per distinct (name, file) string-index
   * pair, so frames are keyed by numbers rather than by concatenated strings.
   */
  private decodeFunctions(): Functions {
    const c = this.c;
    const n = this.functions.length;
    const ids = new Float64Array(n);
    const name = new Array<string>(n);
    const file = new Array<string>(n);
    const canon = new Int32Array(n);
    const canonByKey = new Map<number | string, number>();
    const nStrings = this.strings.length;
    const numericKeys = nStrings < 2 ** 26;
    for (let i = 0; i < n; i++) {
      c.pos = this.functions.data[2 * i]!;
      const end = this.functions.data[2 * i + 1]!;
      let id = 0;
      let nameIdx = 0;
      let fileIdx = 0;
      while (c.pos < end) {
        const at = c.pos;
        const tag = readVarint(c, end);
        const field = tag >>> 3;
        const wt = tag & 7;
        if (field >= 1 && field <= 5) {
          if (wt !== VARINT) throw wireTypeError(c, at, field, wt, VARINT);
          const v = readVarint(c, end);
          if (field === 1) id = v;
          else if (field === 2) nameIdx = v;
          else if (field === 3) this.str(v, 'function', i, 'system_name');
          else if (field === 4) fileIdx = v;
        } else {
          skipField(c, wt, end, field);
        }
      }
      if (id === 0)
        throw new FormatError('pprof_zero_id', `pprof: function[${i}] has id 0`, {
          field: 'function.id',
          index: i,
        });
      ids[i] = id;
      name[i] = this.str(nameIdx, 'function', i, 'name');
      file[i] = this.str(fileIdx, 'function', i, 'filename');
      const key = numericKeys ? nameIdx * nStrings + fileIdx : `${nameIdx},${fileIdx}`;
      let k = canonByKey.get(key);
      if (k === undefined) {
        k = canonByKey.size;
        canonByKey.set(key, k);
      }
      canon[i] = k;
    }
    return { index: new IdIndex(ids), name, file, canon, frames: new PairMap(n) };
  }

  /** The frame of function `f` at `line`, interned per canonical function. */
  private frame(fn: Functions, f: number, line: number): number {
    const k = fn.canon[f]!;
    let i = fn.frames.get(k, line);
    if (i === -1) {
      i = this.newFrame(fn.name[f]!, fn.file[f]!, line);
      fn.frames.set(k, line, i);
    }
    return i;
  }

  private newFrame(name: string, file: string, line: number): number {
    const i = this.frameName.length;
    this.frameName.push(name);
    this.frameFile.push(file);
    if (i === this.frameLine.length) {
      const next = new Int32Array(i * 2);
      next.set(this.frameLine);
      this.frameLine = next;
    }
    this.frameLine[i] = line;
    return i;
  }

  /**
   * Locations: id → frames, root-first. pprof lists a location's lines callee-first (line[0] is the
   * innermost inlined function), so they are reversed here once rather than per sample.
   */
  private decodeLocations(fn: Functions): {
    index: IdIndex;
    start: Int32Array;
    frames: Int32Array;
  } {
    const c = this.c;
    const n = this.locations.length;
    const ids = new Float64Array(n);
    const start = new Int32Array(n + 1);
    let frames = new Int32Array(n + 16);
    let nFrames = 0;
    const lineFrames: number[] = [];
    let nLine = 0;
    for (let i = 0; i < n; i++) {
      c.pos = this.locations.data[2 * i]!;
      const end = this.locations.data[2 * i + 1]!;
      let id = 0;
      let address = 0;
      nLine = 0;
      while (c.pos < end) {
        const at = c.pos;
        const tag = readVarint(c, end);
        const field = tag >>> 3;
        const wt = tag & 7;
        if (field === 4) {
          if (wt !== LEN) throw wireTypeError(c, at, field, wt, LEN);
          const e = readLenEnd(c, end, 'location', i, 'line');
          let fnId = 0;
          let line = 0;
          while (c.pos < e) {
            const at2 = c.pos;
            const t2 = readVarint(c, e);
            const f2 = t2 >>> 3;
            const w2 = t2 & 7;
            if (f2 === 1 || f2 === 2) {
              if (w2 !== VARINT) throw wireTypeError(c, at2, f2, w2, VARINT);
              if (f2 === 1) fnId = readVarint(c, e);
              else line = readInt64(c, e);
            } else {
              skipField(c, w2, e, f2);
            }
          }
          if (fnId === 0) {
            throw new FormatError('pprof_zero_id', `pprof: location[${i}] has a line with function id 0`, {
              field: 'line.function_id',
              index: i,
            });
          }
          const f = fn.index.get(fnId);
          if (f === -1) {
            throw new FormatError(
              'pprof_unknown_function',
              `pprof: location[${i}] refers to function id ${fnId}, which does not exist`,
              {
                index: i,
                id: fnId,
              },
            );
          }
          lineFrames[nLine++] = this.frame(fn, f, line > 0x7fffffff || line < 0 ? 0 : line);
        } else if (field >= 1 && field <= 5) {
          if (wt !== VARINT) throw wireTypeError(c, at, field, wt, VARINT);
          const v = readVarint(c, end);
          if (field === 1) id = v;
          else if (field === 3) address = v;
        } else {
          skipField(c, wt, end, field);
        }
      }
      if (id === 0)
        throw new FormatError('pprof_zero_id', `pprof: location[${i}] has id 0`, {
          field: 'location.id',
          index: i,
        });
      ids[i] = id;
      // An unsymbolized location still is a frame: show its address like pprof does.
      if (nLine === 0) lineFrames[nLine++] = this.newFrame(`0x${address.toString(16)}`, '', 0);
      if (nFrames + nLine > frames.length) {
        const next = new Int32Array((nFrames + nLine) * 2);
        next.set(frames);
        frames = next;
      }
      start[i] = nFrames;
      for (let k = nLine - 1; k >= 0; k--) frames[nFrames++] = lineFrames[k]!;
    }
    start[n] = nFrames;
    return { index: new IdIndex(ids), start, frames };
  }

  private decodeSamples(
    types: Array<[string, string]>,
    loc: { index: IdIndex; start: Int32Array; frames: Int32Array },
  ): Profile[] {
    const c = this.c;
    const bytes = c.bytes;
    const nTypes = types.length;
    const n = this.samples.length;
    const ranges = this.samples.data;
    const sampleStack = new Int32Array(n);
    const sampleLabelSet = new Int32Array(n);
    const values: Float64Array[] = types.map(() => new Float64Array(n));
    const locStart = loc.start;
    const dense = loc.index.dense;
    // Per location, stride 4 so one cache line serves the whole step:
    // [first frame, end of frames, memo parent stack, memo resulting stack]. With dense ids the
    // table is indexed by the id itself (no id → index lookup per reference); slot 0 and unknown
    // ids are marked with first frame -1.
    const byId = dense !== null;
    const slots = byId ? dense.length : locStart.length - 1;
    const info = new Int32Array(Math.max(1, slots) * 4);
    for (let k = 0; k < slots; k++) {
      const l = byId ? dense[k]! : k;
      if (l === -1) {
        info[k * 4] = -1;
        continue;
      }
      info[k * 4] = locStart[l]!;
      info[k * 4 + 1] = locStart[l + 1]!;
      info[k * 4 + 2] = -2;
    }
    if (byId) info[0] = -1;
    const locFrames = loc.frames;
    const nStrings = this.strings.length;
    // Rough size: about one stack per 32 bytes of pprof keeps regrowth rare.
    const stacks = new StackInterner(this.c.bytes.length >>> 5);

    // Locations of the current sample (as location indexes, leaf-first as in the file), and the
    // previous sample's root-first locations with the stack reached after each: consecutive samples
    // often share their root part, which is then not re-interned.
    let locs: Int32Array = new Int32Array(256);
    let prevLocs: Int32Array = new Int32Array(256);
    let prevStacks: Int32Array = new Int32Array(256);
    let prevDepth = 0;

    const labelSets: Labels[] = [[]];
    const labelSetByKey = new Map<string, number>([['{}', 0]]);
    const labelSetByRaw = new Map<number | string, number>();
    const labelPairs: number[] = [];
    let nPairs = 0;

    let kept = 0;
    for (let i = 0; i < n; i++) {
      let p = ranges[2 * i]!;
      const end = ranges[2 * i + 1]!;
      let nLocs = 0;
      let nValues = 0;
      nPairs = 0;
      while (p < end) {
        const tag = bytes[p++]!; // field numbers 1-3 fit in one tag byte
        if (tag === 0x0a || tag === 0x12) {
          // Packed location_id (field 1) or value (field 2); one-byte lengths inline.
          let e: number;
          if (p < end && bytes[p]! < 0x80) {
            e = p + 1 + bytes[p]!;
            p++;
            if (e > end) {
              c.pos = p - 1;
              throw truncated(c, p - 1, `sample[${i}] field ${tag >>> 3} (${e - p} bytes)`);
            }
          } else {
            c.pos = p;
            e = readLenEnd(c, end, 'sample', i, tag === 0x0a ? 'location_id' : 'value');
            p = c.pos;
          }
          if (tag === 0x0a) {
            while (p < e) {
              // Location ids are small: one- and two-byte varints inline.
              let v = bytes[p]!;
              if (v < 0x80) p++;
              else if (p + 1 < e && bytes[p + 1]! < 0x80) {
                v = (v & 0x7f) | (bytes[p + 1]! << 7);
                p += 2;
              } else {
                c.pos = p;
                v = readVarint(c, e);
                p = c.pos;
              }
              if (nLocs === locs.length) locs = grow(locs);
              locs[nLocs++] =
                byId && v < slots && info[v * 4] !== -1 ? v : this.locationKey(loc.index, v, i, byId);
            }
          } else {
            while (p < e) {
              let v = bytes[p]!;
              if (v < 0x80) p++;
              else {
                c.pos = p;
                v = readInt64(c, e);
                p = c.pos;
              }
              if (nValues < nTypes) values[nValues]![i] = v;
              nValues++;
            }
          }
        } else if (tag === 0x08) {
          c.pos = p;
          const v = readVarint(c, end);
          p = c.pos;
          if (nLocs === locs.length) locs = grow(locs);
          locs[nLocs++] =
            byId && v < slots && info[v * 4] !== -1 ? v : this.locationKey(loc.index, v, i, byId);
        } else if (tag === 0x10) {
          c.pos = p;
          const v = readInt64(c, end);
          p = c.pos;
          if (nValues < nTypes) values[nValues]![i] = v;
          nValues++;
        } else if (tag === 0x1a) {
          c.pos = p;
          const e = readLenEnd(c, end, 'sample', i, 'label');
          let key = 0;
          let str = 0;
          while (c.pos < e) {
            const at = c.pos;
            const t = readVarint(c, e);
            const f = t >>> 3;
            const w = t & 7;
            if (f >= 1 && f <= 4) {
              if (w !== VARINT) throw wireTypeError(c, at, f, w, VARINT);
              const v = readVarint(c, e);
              if (f === 1) key = v;
              else if (f === 2) str = v;
              else if (f === 4 && v >= nStrings)
                throw stringIndexError(`sample[${i}].label.num_unit`, v, nStrings);
            } else {
              skipField(c, w, e, f);
            }
          }
          if (key >= nStrings) throw stringIndexError(`sample[${i}].label.key`, key, nStrings);
          if (str >= nStrings) throw stringIndexError(`sample[${i}].label.str`, str, nStrings);
          // Numeric labels (str = 0) are not part of the model.
          if (str !== 0) {
            labelPairs[nPairs++] = key;
            labelPairs[nPairs++] = str;
          }
          p = e;
        } else {
          c.pos = p - 1;
          const t = readVarint(c, end);
          const f = t >>> 3;
          if (f >= 1 && f <= 3) throw wireTypeError(c, p - 1, f, t & 7);
          skipField(c, t & 7, end, f);
          p = c.pos;
        }
      }
      if (nValues !== nTypes) {
        throw new FormatError(
          'pprof_value_count',
          `pprof: sample[${i}] has ${nValues} values but there are ${nTypes} sample types`,
          {
            index: i,
            expected: nTypes,
            actual: nValues,
          },
        );
      }
      // A sample without locations has no stack to attribute its value to: dropped.
      if (nLocs === 0) continue;

      // Root-first walk; reuse the prefix shared with the previous sample.
      let depth = 0;
      let stack = -1;
      const limit = Math.min(nLocs, prevDepth);
      while (depth < limit && prevLocs[depth] === locs[nLocs - 1 - depth]) {
        stack = prevStacks[depth]!;
        depth++;
      }
      if (nLocs > prevLocs.length) {
        prevLocs = growTo(prevLocs, nLocs);
        prevStacks = growTo(prevStacks, nLocs);
      }
      for (let d = depth; d < nLocs; d++) {
        const l = locs[nLocs - 1 - d]!;
        // One-entry memo per location: the same location under the same parent stack (common in
        // the shared root part of stacks) skips the trie walk.
        const o = l * 4;
        if (info[o + 2] === stack) {
          stack = info[o + 3]!;
        } else {
          info[o + 2] = stack;
          for (let k = info[o]!, ke = info[o + 1]!; k < ke; k++) stack = stacks.intern(stack, locFrames[k]!);
          info[o + 3] = stack;
        }
        prevLocs[d] = l;
        prevStacks[d] = stack;
      }
      prevDepth = nLocs;

      let labelSet = 0;
      if (nPairs > 0) {
        labelPairs.length = nPairs;
        labelSet = this.labelSetOf(labelPairs, labelSets, labelSetByKey, labelSetByRaw);
      }

      sampleStack[kept] = stack;
      sampleLabelSet[kept] = labelSet;
      if (kept !== i) for (let t = 0; t < nTypes; t++) values[t]![kept] = values[t]![i]!;
      kept++;
    }

    const frames = {
      length: this.frameName.length,
      name: this.frameName,
      file: this.frameFile,
      line: this.frameLine.slice(0, this.frameName.length),
    };
    const stackTable = stacks.table();
    const stackCol = kept === n ? sampleStack : sampleStack.slice(0, kept);
    const labelCol = kept === n ? sampleLabelSet : sampleLabelSet.slice(0, kept);
    const metric = pprofMetricName(
      types.map((t) => t[0]),
      this.opts.displayNames,
    );
    const [periodType, periodUnit] = this.periodType
      ? [this.strings[this.periodType[0]]!, this.strings[this.periodType[1]]!]
      : ['', ''];
    return types.map(([sampleType, sampleUnit], t): Profile => {
      const type: ProfileType = makeProfileType(metric, sampleType, sampleUnit, periodType, periodUnit);
      return {
        type,
        timeNs: this.timeNs,
        durationNs: this.durationNs,
        period: this.period,
        frames,
        stacks: stackTable,
        samples: {
          length: kept,
          stack: stackCol,
          value: kept === n ? values[t]! : values[t]!.slice(0, kept),
          labelSet: labelCol,
        },
        sampleLabelSets: labelSets,
      };
    });
  }

  /** Slow path of a sample's location reference: the key into `info` (index, or id when byId), or a coded error. */
  private locationKey(index: IdIndex, id: number, sample: number, byId: boolean): number {
    const l = this.locationIndex(index, id, sample);
    return byId ? id : l;
  }

  private locationIndex(index: IdIndex, id: number, sample: number): number {
    const l = id === 0 ? -1 : index.get(id);
    if (l === -1) {
      throw new FormatError(
        id === 0 ? 'pprof_zero_id' : 'pprof_unknown_location',
        `pprof: sample[${sample}] refers to location id ${id}, which ${id === 0 ? 'is not allowed' : 'does not exist'}`,
        { index: sample, id },
      );
    }
    return l;
  }

  /** Interns a sample's string labels; `pairs` is [key, str, key, str, ...] string indexes. */
  private labelSetOf(
    pairs: number[],
    sets: Labels[],
    byKey: Map<string, number>,
    byRaw: Map<number | string, number>,
  ): number {
    // One label (the common case) is keyed by a number: no string is built per sample.
    const n = this.strings.length;
    const raw = pairs.length === 2 && n < 2 ** 26 ? pairs[0]! * n + pairs[1]! : pairs.join(',');
    let i = byRaw.get(raw);
    if (i !== undefined) return i;
    const labels: Array<{ name: string; value: string }> = [];
    for (let k = 0; k < pairs.length; k += 2)
      labels.push({ name: this.strings[pairs[k]!]!, value: this.strings[pairs[k + 1]!]! });
    const norm = normalizeLabels(labels);
    const key = formatLabels(norm);
    i = byKey.get(key);
    if (i === undefined) {
      i = sets.length;
      sets.push(norm);
      byKey.set(key, i);
    }
    byRaw.set(raw, i);
    return i;
  }
}

/**
 * The stack table as a trie: each stack keeps its children in a linked list, so finding
 * (parent, frame) mostly touches memory next to the parent (a child is usually created right
 * after its parent). A parent with many children (a dispatcher) gets a hash of its own children
 * once it passes WIDE, so lookups stay short. Node 0 is a virtual root; stack = node - 1.
 */
class StackInterner {
  /** Per node, stride 4: [frame, firstChild, nextSibling, childCount]; -1 = none. */
  private nodes: Int32Array;
  private parentOut: Int32Array;
  private nodeCount = 1;
  /** Children of wide parents: (parent, frame) → node. */
  private wide: PairMap | null = null;

  constructor(expected: number) {
    let size = 256;
    while (size < expected) size *= 2;
    this.nodes = new Int32Array(size * 4);
    this.parentOut = new Int32Array(size);
    this.nodes[0] = -1;
    this.nodes[1] = -1;
    this.nodes[2] = -1;
  }

  /** The stack made of `parent` (-1 for none) plus `frame` as its leaf. */
  intern(parentStack: number, frame: number): number {
    const parent = parentStack + 1;
    const nodes = this.nodes;
    const po = parent * 4;
    if (nodes[po + 3]! <= WIDE) {
      for (let c = nodes[po + 1]!; c !== -1; c = nodes[c * 4 + 2]!) if (nodes[c * 4] === frame) return c - 1;
    } else {
      const c = this.wide!.get(parent, frame);
      if (c !== -1) return c - 1;
    }
    return this.add(parent, frame) - 1;
  }

  private add(parent: number, frame: number): number {
    const n = this.nodeCount++;
    if (n * 4 === this.nodes.length) {
      const next = new Int32Array(this.nodes.length * 2);
      next.set(this.nodes);
      this.nodes = next;
      const np = new Int32Array(this.parentOut.length * 2);
      np.set(this.parentOut);
      this.parentOut = np;
    }
    const nodes = this.nodes;
    const po = parent * 4;
    const o = n * 4;
    nodes[o] = frame;
    nodes[o + 1] = -1;
    nodes[o + 2] = nodes[po + 1]!;
    nodes[o + 3] = 0;
    nodes[po + 1] = n;
    const count = ++nodes[po + 3]!;
    this.parentOut[n] = parent - 1;
    if (count > WIDE) {
      if (count === WIDE + 1) {
        this.wide ??= new PairMap(256);
        for (let c = nodes[po + 1]!; c !== -1; c = nodes[c * 4 + 2]!) this.wide.set(parent, nodes[c * 4]!, c);
      } else {
        this.wide!.set(parent, frame, n);
      }
    }
    return n;
  }

  table(): { length: number; parent: Int32Array; frame: Int32Array } {
    const n = this.nodeCount - 1;
    const frame = new Int32Array(n);
    for (let s = 0; s < n; s++) frame[s] = this.nodes[(s + 1) * 4]!;
    return { length: n, parent: this.parentOut.slice(1, n + 1), frame };
  }
}

/** Mixes two small integers (murmur3 finaliser style): their low bits alone would cluster. */
function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x9e3779b1) + b;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return h ^ (h >>> 13);
}

/** Open-addressing map from a pair of non-negative int32 to a non-negative int32 (no allocation per entry). */
class PairMap {
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * 3).fill(-1);
  }

  /** The value for (a, b), or -1. */
  get(a: number, b: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let h = hash2(a, b); ; h++) {
      const o = (h & mask) * 3;
      const v = slots[o + 2]!;
      if (v === -1 || (slots[o] === a && slots[o + 1] === b)) return v;
    }
  }

  /** Sets (a, b) → v; (a, b) must not be present yet. */
  set(a: number, b: number, v: number): void {
    if (++this.count * 2 > this.mask) {
      const old = this.slots;
      this.mask = this.mask * 2 + 1;
      this.slots = new Int32Array((this.mask + 1) * 3).fill(-1);
      for (let o = 0; o < old.length; o += 3)
        if (old[o + 2] !== -1) this.place(old[o]!, old[o + 1]!, old[o + 2]!);
    }
    this.place(a, b, v);
  }

  private place(a: number, b: number, v: number): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let h = hash2(a, b); ; h++) {
      const o = (h & mask) * 3;
      if (slots[o + 2] === -1) {
        slots[o] = a;
        slots[o + 1] = b;
        slots[o + 2] = v;
        return;
      }
    }
  }
}

/** Children walked linearly before a parent switches to the hash. */
const WIDE = 8;

function grow(a: Int32Array): Int32Array {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

function growTo(a: Int32Array, n: number): Int32Array {
  let size = a.length;
  while (size < n) size *= 2;
  const next = new Int32Array(size);
  next.set(a);
  return next;
}
