// pprof exporter. Spec: https://github.com/google/pprof/blob/main/proto/profile.proto
// Profiles that share tables (one multi-valued import) become one pprof with several sample types;
// otherwise their tables are merged and each sample carries a value only for its own type.
// Every frame becomes one location with one line; functions are distinct (name, file) pairs.

import { FormatError } from '../errors.ts';
import { gzipBytes } from './gzip.ts';
import type { Profile } from '../model.ts';
import { ByteWriter, LEN } from './proto.ts';
import { mergeColumns } from './tables.ts';

export interface PprofEncodeOptions {
  /** Overrides the first profile's start time (ns since epoch). */
  timeNs?: number;
}

export function encodePprof(profiles: readonly Profile[], opts: PprofEncodeOptions = {}): Uint8Array {
  const first = profiles[0];
  if (first === undefined)
    throw new FormatError('pprof_encode_empty', 'pprof: nothing to encode (0 profiles)', { profiles: 0 });
  const cols = mergeColumns(profiles);

  const strings = new Map<string, number>([['', 0]]);
  const str = (s: string): number => {
    let i = strings.get(s);
    if (i === undefined) {
      i = strings.size;
      strings.set(s, i);
    }
    return i;
  };

  const out = new ByteWriter(64 * 1024);
  const msg = new ByteWriter(256);
  const scratch = new ByteWriter(256);

  for (const p of profiles) {
    msg.pos = 0;
    msg.varintField(1, str(p.type.sampleType));
    msg.varintField(2, str(p.type.sampleUnit));
    out.messageField(1, msg);
  }

  // Samples: location ids leaf-first (location id = frame index + 1).
  const locIds: number[] = [];
  const vals: number[] = [];
  const nTypes = profiles.length;
  for (let i = 0; i < cols.sampleStack.length; i++) {
    locIds.length = 0;
    for (let s = cols.sampleStack[i]!; s !== -1; s = cols.stackParent[s]!)
      locIds.push(cols.stackFrame[s]! + 1);
    vals.length = 0;
    for (let t = 0; t < nTypes; t++) vals.push(Math.round(cols.values[t]![i]!));
    msg.pos = 0;
    msg.packedField(1, locIds, scratch);
    msg.packedField(2, vals, scratch);
    for (const l of cols.labelSets[cols.sampleLabelSet[i]!] ?? []) {
      scratch.pos = 0;
      scratch.varintField(1, str(l.name));
      scratch.varintField(2, str(l.value));
      msg.tag(3, LEN);
      msg.varint(scratch.pos);
      msg.bytes(scratch.buf.subarray(0, scratch.pos));
    }
    out.messageField(2, msg);
  }

  // Locations, then functions (distinct name + file).
  const fnIds = new Map<string, number>();
  const fnList: Array<[string, string]> = [];
  for (let f = 0; f < cols.frameName.length; f++) {
    const key = `${cols.frameName[f]}\u0000${cols.frameFile[f]}`;
    let id = fnIds.get(key);
    if (id === undefined) {
      id = fnList.length + 1;
      fnIds.set(key, id);
      fnList.push([cols.frameName[f]!, cols.frameFile[f]!]);
    }
    scratch.pos = 0;
    scratch.varintField(1, id);
    scratch.varintField(2, cols.frameLine[f]!);
    msg.pos = 0;
    msg.varintField(1, f + 1);
    msg.messageField(4, scratch);
    out.messageField(4, msg);
  }
  fnList.forEach(([name, file], k) => {
    msg.pos = 0;
    msg.varintField(1, k + 1);
    msg.varintField(2, str(name));
    msg.varintField(3, str(name));
    msg.varintField(4, str(file));
    out.messageField(5, msg);
  });

  const periodType = first.type.periodType;
  const periodUnit = first.type.periodUnit;
  const ptIdx = periodType !== '' || periodUnit !== '' ? [str(periodType), str(periodUnit)] : null;

  for (const s of strings.keys()) out.stringField(6, s);
  out.varintField(9, opts.timeNs ?? first.timeNs);
  out.varintField(10, first.durationNs);
  if (ptIdx) {
    msg.pos = 0;
    msg.varintField(1, ptIdx[0]!);
    msg.varintField(2, ptIdx[1]!);
    out.messageField(11, msg);
  }
  out.varintField(12, first.period);
  return out.finish();
}

export function encodePprofGzip(profiles: readonly Profile[], opts: PprofEncodeOptions = {}): Uint8Array {
  return gzipBytes(encodePprof(profiles, opts));
}
