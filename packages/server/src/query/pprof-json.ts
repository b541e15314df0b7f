// google.v1.Profile (pprof) bytes → protojson, for SelectMergeProfile answered as application/json.
// Schema: https://github.com/google/pprof/blob/main/proto/profile.proto (int64/uint64 as strings).

import { ProtoReader, WIRE_LEN } from '../connect/wire.ts';

type Kind = 'int' | 'bool' | 'string';
interface Field {
  readonly json: string;
  readonly kind: Kind | Schema;
  readonly repeated?: boolean;
}
type Schema = Readonly<Record<number, Field>>;

const VALUE_TYPE: Schema = { 1: { json: 'type', kind: 'int' }, 2: { json: 'unit', kind: 'int' } };
const LABEL: Schema = {
  1: { json: 'key', kind: 'int' },
  2: { json: 'str', kind: 'int' },
  3: { json: 'num', kind: 'int' },
  4: { json: 'numUnit', kind: 'int' },
};
const SAMPLE: Schema = {
  1: { json: 'locationId', kind: 'int', repeated: true },
  2: { json: 'value', kind: 'int', repeated: true },
  3: { json: 'label', kind: LABEL, repeated: true },
};
const MAPPING: Schema = {
  1: { json: 'id', kind: 'int' },
  2: { json: 'memoryStart', kind: 'int' },
  3: { json: 'memoryLimit', kind: 'int' },
  4: { json: 'fileOffset', kind: 'int' },
  5: { json: 'filename', kind: 'int' },
  6: { json: 'buildId', kind: 'int' },
  7: { json: 'hasFunctions', kind: 'bool' },
  8: { json: 'hasFilenames', kind: 'bool' },
  9: { json: 'hasLineNumbers', kind: 'bool' },
  10: { json: 'hasInlineFrames', kind: 'bool' },
};
const LINE: Schema = {
  1: { json: 'functionId', kind: 'int' },
  2: { json: 'line', kind: 'int' },
  3: { json: 'column', kind: 'int' },
};
const LOCATION: Schema = {
  1: { json: 'id', kind: 'int' },
  2: { json: 'mappingId', kind: 'int' },
  3: { json: 'address', kind: 'int' },
  4: { json: 'line', kind: LINE, repeated: true },
  5: { json: 'isFolded', kind: 'bool' },
};
const FUNCTION: Schema = {
  1: { json: 'id', kind: 'int' },
  2: { json: 'name', kind: 'int' },
  3: { json: 'systemName', kind: 'int' },
  4: { json: 'filename', kind: 'int' },
  5: { json: 'startLine', kind: 'int' },
};
const PROFILE: Schema = {
  1: { json: 'sampleType', kind: VALUE_TYPE, repeated: true },
  2: { json: 'sample', kind: SAMPLE, repeated: true },
  3: { json: 'mapping', kind: MAPPING, repeated: true },
  4: { json: 'location', kind: LOCATION, repeated: true },
  5: { json: 'function', kind: FUNCTION, repeated: true },
  6: { json: 'stringTable', kind: 'string', repeated: true },
  7: { json: 'dropFrames', kind: 'int' },
  8: { json: 'keepFrames', kind: 'int' },
  9: { json: 'timeNanos', kind: 'int' },
  10: { json: 'durationNanos', kind: 'int' },
  11: { json: 'periodType', kind: VALUE_TYPE },
  12: { json: 'period', kind: 'int' },
  13: { json: 'comment', kind: 'int', repeated: true },
  14: { json: 'defaultSampleType', kind: 'int' },
};

function decode(r: ProtoReader, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const push = (f: Field, v: unknown): void => {
    if (f.repeated) ((out[f.json] ??= []) as unknown[]).push(v);
    else out[f.json] = v;
  };
  while (!r.done) {
    const [num, wire] = r.key();
    const f = schema[num];
    if (f === undefined) {
      r.skip(wire);
      continue;
    }
    if (typeof f.kind === 'object') push(f, decode(r.message(), f.kind));
    else if (f.kind === 'string') push(f, r.string());
    else if (wire === WIRE_LEN) {
      const ints: number[] = [];
      r.repeatedInt64(wire, ints);
      for (const v of ints) push(f, f.kind === 'bool' ? v !== 0 : String(v));
    } else {
      const v = r.int64();
      push(f, f.kind === 'bool' ? v !== 0 : String(v));
    }
  }
  // Default values are omitted in protojson (the string table keeps its leading "").
  for (const [k, v] of Object.entries(out)) if (v === '0' || v === false) delete out[k];
  return out;
}

export function pprofToJson(bytes: Uint8Array): unknown {
  return decode(new ProtoReader(bytes), PROFILE);
}
