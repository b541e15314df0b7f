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
import { LEN, VARINT, readInt64, readLenEnd, readVarint, skipField, wireTypeError, type Cursor } from './proto.ts';
import { decodeUtf8 } from './utf8.ts';

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
  undefined, LEN, LEN, LEN, LEN, LEN, LEN, VARINT, VARINT, VARINT, VARINT, LEN, VARINT, VARINT, VARINT,
];

/** Growable list of [start, end) byte ranges. */
class Ranges {
  data = new Int32Array(256);
  length = 0;
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
  private readonly dense: Int32Array | null = null;
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

function stringIndexError(field: string, index: number, count: number): FormatError {
  return new FormatError('pprof_string_index', `pprof: ${field} refers to string ${index} but the string table has ${count} entries`, {
    field,
    index,
    length: count,
  });
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
      c.pos += len;
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
  private readonly samples = new Ranges();
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
  private readonly frameIndex = new Map<string, number>();

  // Stack table under construction and its (parent, frame) → stack hash.
  private stackParent = new Int32Array(1024);
  private stackFrame = new Int32Array(1024);
  private stackCount = 0;
  private hash = new Int32Array(2048).fill(-1);
  private hashMask = 2047;

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
      throw new FormatError('pprof_no_sample_type', 'pprof: the profile has no sample_type', { field: 'sample_type' });
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
      if (field === 0) throw new FormatError('pprof_bad_field', `pprof: field number 0 at offset ${at}`, { offset: at });
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
          const e = readLenEnd(c, end, `field ${field}`);
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

  private decodeStrings(): void {
    const { bytes } = this.c;
    const r = this.stringRanges;
    const out = new Array<string>(r.length);
    for (let i = 0; i < r.length; i++) {
      const s = decodeUtf8(bytes, r.data[2 * i]!, r.data[2 * i + 1]!);
      if (s === null) {
        throw new FormatError('invalid_utf8', `pprof: string_table[${i}] is not valid UTF-8 (offset ${r.data[2 * i]})`, {
          index: i,
          offset: r.data[2 * i]!,
        });
      }
      out[i] = s;
    }
    if (out.length > 0 && out[0] !== '') {
      throw new FormatError('pprof_string_table_start', `pprof: string_table[0] must be "" but is ${JSON.stringify(out[0]!.slice(0, 40))}`, {
        index: 0,
      });
    }
    this.strings = out;
  }

  private str(index: number, field: string): string {
    const s = this.strings[index];
    if (s === undefined) throw stringIndexError(field, index, this.strings.length);
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
      out.push([this.str(t, `sample_type[${i}].type`), this.str(u, `sample_type[${i}].unit`)]);
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
          this.str(readVarint(c, end), field === 5 ? `mapping[${i}].filename` : `mapping[${i}].build_id`);
        } else if (field >= 1 && field <= 10 && wt !== VARINT) {
          throw wireTypeError(c, at, field, wt, VARINT);
        } else {
          skipField(c, wt, end, field);
        }
      }
    }
  }

  /** Functions: id → (name, file). */
  private decodeFunctions(): { index: IdIndex; name: string[]; file: string[] } {
    const c = this.c;
    const n = this.functions.length;
    const ids = new Float64Array(n);
    const name = new Array<string>(n);
    const file = new Array<string>(n);
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
          else if (field === 3) this.str(v, `function[${i}].system_name`);
          else if (field === 4) fileIdx = v;
        } else {
          skipField(c, wt, end, field);
        }
      }
      if (id === 0) throw new FormatError('pprof_zero_id', `pprof: function[${i}] has id 0`, { field: 'function.id', index: i });
      ids[i] = id;
      name[i] = this.str(nameIdx, `function[${i}].name`);
      file[i] = this.str(fileIdx, `function[${i}].filename`);
    }
    return { index: new IdIndex(ids), name, file };
  }

  private frame(name: string, file: string, line: number): number {
    const key = `${name}\u0000${file}\u0000${line}`;
    let i = this.frameIndex.get(key);
    if (i === undefined) {
      i = this.frameName.length;
      this.frameName.push(name);
      this.frameFile.push(file);
      if (i === this.frameLine.length) {
        const next = new Int32Array(i * 2);
        next.set(this.frameLine);
        this.frameLine = next;
      }
      this.frameLine[i] = line;
      this.frameIndex.set(key, i);
    }
    return i;
  }

  /**
   * Locations: id → frames, root-first. pprof lists a location's lines callee-first (line[0] is the
   * innermost inlined function), so they are reversed here once rather than per sample.
   */
  private decodeLocations(fn: { index: IdIndex; name: string[]; file: string[] }): {
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
    for (let i = 0; i < n; i++) {
      c.pos = this.locations.data[2 * i]!;
      const end = this.locations.data[2 * i + 1]!;
      let id = 0;
      let address = 0;
      lineFrames.length = 0;
      while (c.pos < end) {
        const at = c.pos;
        const tag = readVarint(c, end);
        const field = tag >>> 3;
        const wt = tag & 7;
        if (field === 4) {
          if (wt !== LEN) throw wireTypeError(c, at, field, wt, LEN);
          const e = readLenEnd(c, end, `location[${i}].line`);
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
            throw new FormatError('pprof_zero_id', `pprof: location[${i}] has a line with function id 0`, { field: 'line.function_id', index: i });
          }
          const f = fn.index.get(fnId);
          if (f === -1) {
            throw new FormatError('pprof_unknown_function', `pprof: location[${i}] refers to function id ${fnId}, which does not exist`, {
              index: i,
              id: fnId,
            });
          }
          lineFrames.push(this.frame(fn.name[f]!, fn.file[f]!, line > 0x7fffffff || line < 0 ? 0 : line));
        } else if (field >= 1 && field <= 5) {
          if (wt !== VARINT) throw wireTypeError(c, at, field, wt, VARINT);
          const v = readVarint(c, end);
          if (field === 1) id = v;
          else if (field === 3) address = v;
        } else {
          skipField(c, wt, end, field);
        }
      }
      if (id === 0) throw new FormatError('pprof_zero_id', `pprof: location[${i}] has id 0`, { field: 'location.id', index: i });
      ids[i] = id;
      // An unsymbolized location still is a frame: show its address like pprof does.
      if (lineFrames.length === 0) lineFrames.push(this.frame(`0x${address.toString(16)}`, '', 0));
      if (nFrames + lineFrames.length > frames.length) {
        const next = new Int32Array((nFrames + lineFrames.length) * 2);
        next.set(frames);
        frames = next;
      }
      start[i] = nFrames;
      for (let k = lineFrames.length - 1; k >= 0; k--) frames[nFrames++] = lineFrames[k]!;
    }
    start[n] = nFrames;
    return { index: new IdIndex(ids), start, frames };
  }

  /** The stack (parent + frame), interned. */
  private intern(parent: number, frame: number): number {
    let h = (Math.imul(parent + 1, 0x9e3779b1) ^ Math.imul(frame, 0x85ebca77)) >>> 0;
    const mask = this.hashMask;
    const table = this.hash;
    const sp = this.stackParent;
    const sf = this.stackFrame;
    for (;;) {
      h &= mask;
      const s = table[h]!;
      if (s === -1) break;
      if (sp[s] === parent && sf[s] === frame) return s;
      h++;
    }
    const s = this.stackCount++;
    if (s === this.stackParent.length) {
      const np = new Int32Array(s * 2);
      np.set(this.stackParent);
      this.stackParent = np;
      const nf = new Int32Array(s * 2);
      nf.set(this.stackFrame);
      this.stackFrame = nf;
    }
    this.stackParent[s] = parent;
    this.stackFrame[s] = frame;
    table[h] = s;
    if (this.stackCount * 2 > mask) this.rehash();
    return s;
  }

  private rehash(): void {
    const size = (this.hashMask + 1) * 2;
    const mask = size - 1;
    const table = new Int32Array(size).fill(-1);
    for (let s = 0; s < this.stackCount; s++) {
      let h = (Math.imul(this.stackParent[s]! + 1, 0x9e3779b1) ^ Math.imul(this.stackFrame[s]!, 0x85ebca77)) >>> 0;
      for (;;) {
        h &= mask;
        if (table[h] === -1) break;
        h++;
      }
      table[h] = s;
    }
    this.hash = table;
    this.hashMask = mask;
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
    const locFrames = loc.frames;
    const nStrings = this.strings.length;

    // Locations of the current sample (as location indexes, leaf-first as in the file), and the
    // previous sample's root-first locations with the stack reached after each: consecutive samples
    // often share their root part, which is then not re-interned.
    let locs: Int32Array = new Int32Array(256);
    let prevLocs: Int32Array = new Int32Array(256);
    let prevStacks: Int32Array = new Int32Array(256);
    let prevDepth = 0;

    const labelSets: Labels[] = [[]];
    const labelSetByKey = new Map<string, number>([['{}', 0]]);
    const labelSetByRaw = new Map<string, number>();
    const labelPairs: number[] = [];

    let kept = 0;
    for (let i = 0; i < n; i++) {
      let p = ranges[2 * i]!;
      const end = ranges[2 * i + 1]!;
      let nLocs = 0;
      let nValues = 0;
      labelPairs.length = 0;
      while (p < end) {
        const tag = bytes[p++]!; // field numbers 1-3 fit in one tag byte
        if (tag === 0x0a || tag === 0x12) {
          // Packed location_id (field 1) or value (field 2).
          c.pos = p;
          const e = readLenEnd(c, end, tag === 0x0a ? `sample[${i}].location_id` : `sample[${i}].value`);
          p = c.pos;
          if (tag === 0x0a) {
            while (p < e) {
              let v = bytes[p]!;
              if (v < 0x80) p++;
              else {
                c.pos = p;
                v = readVarint(c, e);
                p = c.pos;
              }
              if (nLocs === locs.length) locs = grow(locs);
              locs[nLocs++] = this.locationIndex(loc.index, v, i);
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
          locs[nLocs++] = this.locationIndex(loc.index, v, i);
        } else if (tag === 0x10) {
          c.pos = p;
          const v = readInt64(c, end);
          p = c.pos;
          if (nValues < nTypes) values[nValues]![i] = v;
          nValues++;
        } else if (tag === 0x1a) {
          c.pos = p;
          const e = readLenEnd(c, end, `sample[${i}].label`);
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
              else if (f === 4 && v >= nStrings) throw stringIndexError(`sample[${i}].label.num_unit`, v, nStrings);
            } else {
              skipField(c, w, e, f);
            }
          }
          if (key >= nStrings) throw stringIndexError(`sample[${i}].label.key`, key, nStrings);
          if (str >= nStrings) throw stringIndexError(`sample[${i}].label.str`, str, nStrings);
          // Numeric labels (str = 0) are not part of the model.
          if (str !== 0) labelPairs.push(key, str);
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
        throw new FormatError('pprof_value_count', `pprof: sample[${i}] has ${nValues} values but there are ${nTypes} sample types`, {
          index: i,
          expected: nTypes,
          actual: nValues,
        });
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
        for (let k = locStart[l]!, ke = locStart[l + 1]!; k < ke; k++) stack = this.intern(stack, locFrames[k]!);
        prevLocs[d] = l;
        prevStacks[d] = stack;
      }
      prevDepth = nLocs;

      let labelSet = 0;
      if (labelPairs.length > 0) labelSet = this.labelSetOf(labelPairs, labelSets, labelSetByKey, labelSetByRaw);

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
    const stacks = {
      length: this.stackCount,
      parent: this.stackParent.slice(0, this.stackCount),
      frame: this.stackFrame.slice(0, this.stackCount),
    };
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
        stacks,
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
  private labelSetOf(pairs: number[], sets: Labels[], byKey: Map<string, number>, byRaw: Map<string, number>): number {
    const raw = pairs.join(',');
    let i = byRaw.get(raw);
    if (i !== undefined) return i;
    const labels: Array<{ name: string; value: string }> = [];
    for (let k = 0; k < pairs.length; k += 2) labels.push({ name: this.strings[pairs[k]!]!, value: this.strings[pairs[k + 1]!]! });
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
