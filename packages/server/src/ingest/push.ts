// push.v1.PusherService/Push messages (compat spec §2), decoded by hand from protobuf or protojson:
//   PushRequest { repeated RawProfileSeries series = 1; }
//   RawProfileSeries { repeated LabelPair labels = 1; repeated RawSample samples = 2; repeated ProfileAnnotation annotations = 3; }
//   RawSample { bytes raw_profile = 1; string ID = 2; }
//   LabelPair { string name = 1; string value = 2; }

import type { LabelPair } from '@hotpath/core';
import { requestErrors } from '../errors.ts';
import { ProtoReader, WIRE_LEN } from '../connect/wire.ts';
import { jsonString } from '../connect/unary.ts';

export interface RawSeries {
  readonly labels: LabelPair[];
  readonly samples: { readonly rawProfile: Uint8Array; readonly id: string }[];
}

export interface PushRequest {
  readonly series: RawSeries[];
}

function readLabel(r: ProtoReader): LabelPair {
  let name = '';
  let value = '';
  while (!r.done) {
    const [f, wt] = r.key();
    if (f === 1 && wt === WIRE_LEN) name = r.string();
    else if (f === 2 && wt === WIRE_LEN) value = r.string();
    else r.skip(wt);
  }
  return { name, value };
}

function readSample(r: ProtoReader): RawSeries['samples'][number] {
  let rawProfile: Uint8Array = new Uint8Array(0);
  let id = '';
  while (!r.done) {
    const [f, wt] = r.key();
    if (f === 1 && wt === WIRE_LEN) rawProfile = r.bytes();
    else if (f === 2 && wt === WIRE_LEN) id = r.string();
    else r.skip(wt);
  }
  return { rawProfile, id };
}

function readSeries(r: ProtoReader): RawSeries {
  const labels: LabelPair[] = [];
  const samples: RawSeries['samples'] = [];
  while (!r.done) {
    const [f, wt] = r.key();
    if (f === 1 && wt === WIRE_LEN) labels.push(readLabel(r.message()));
    else if (f === 2 && wt === WIRE_LEN) samples.push(readSample(r.message()));
    else r.skip(wt);
  }
  return { labels, samples };
}

export function decodePushBinary(bytes: Uint8Array): PushRequest {
  const r = new ProtoReader(bytes);
  const series: RawSeries[] = [];
  while (!r.done) {
    const [f, wt] = r.key();
    if (f === 1 && wt === WIRE_LEN) series.push(readSeries(r.message()));
    else r.skip(wt);
  }
  return { series };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function jsonArray(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw requestErrors.malformedJson(`field '${field}' must be an array`);
  return v;
}

function jsonObject(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw requestErrors.malformedJson(`field '${field}' must be an object`);
  }
  return v as Record<string, unknown>;
}

/** protojson: `{"series":[{"labels":[{"name","value"}],"samples":[{"rawProfile":"<base64>","ID":"..."}]}]}` */
export function decodePushJson(json: unknown): PushRequest {
  const root = jsonObject(json, 'request');
  return {
    series: jsonArray(root.series, 'series').map((s, i) => {
      const o = jsonObject(s, `series[${i}]`);
      return {
        labels: jsonArray(o.labels, `series[${i}].labels`).map((l, j) => {
          const lo = jsonObject(l, `series[${i}].labels[${j}]`);
          return {
            name: jsonString(lo.name, `series[${i}].labels[${j}].name`),
            value: jsonString(lo.value, `series[${i}].labels[${j}].value`),
          };
        }),
        samples: jsonArray(o.samples, `series[${i}].samples`).map((x, j) => {
          const so = jsonObject(x, `series[${i}].samples[${j}]`);
          const b64 = jsonString(so.rawProfile ?? so.raw_profile, `series[${i}].samples[${j}].rawProfile`);
          if (!BASE64.test(b64)) {
            throw requestErrors.malformedJson(`field 'series[${i}].samples[${j}].rawProfile' is not base64`);
          }
          return {
            rawProfile: new Uint8Array(
              Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64'),
            ),
            id: jsonString(so.ID ?? so.id, 'ID'),
          };
        }),
      };
    }),
  };
}
