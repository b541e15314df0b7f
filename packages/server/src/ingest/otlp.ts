// OpenTelemetry profiles (OTLP, opentelemetry-proto 1.9 and newer, read with 1.10's schema; package
// opentelemetry.proto.profiles.v1development; schemas in proto/, code in src/gen/) → Uploads.
//
// One Upload per OTLP Profile (each has one sample type), so the write path accepts or rejects each
// profile on its own (OTLP partial success). Mapping, following Grafana Pyroscope's OTLP ingest:
// - series labels: string-valued resource attributes, then scope attributes (first wins), names kept
//   as sent (dots included, as Pyroscope does with label sanitization off); `service.name` becomes
//   `service_name` (fallback `unknown_service[:<process.executable.name>]`), and a sample's own
//   `service.name` attribute wins over its resource's;
// - sample attributes (string values) become sample labels (promoted to series labels by the write
//   path); a sample's link becomes the per-sample `span_id`/`trace_id` labels (hex);
// - sample type and period: samples/count sampled on cpu/nanoseconds is process_cpu in nanoseconds
//   (value × period); off_cpu keeps its name; other types are named as a pprof sample type would be;
// - frames: stacks are leaf-first location lists, a location's lines are innermost-first (inlined
//   functions); a location without lines is an unsymbolised native address, named after its mapping's
//   file. The location's (or its mapping's) `profile.frame.type` is kept as a name suffix (core
//   frame-kind.ts): Python frames bare, `_PyEval_EvalFrameDefault [native]`, `do_syscall_64 [kernel]`.
//
// Versions: 1.10 moved Sample's fields (values 2 → 4, attribute_indices 3 → 2, link_index 4 → 3);
// 1.10, 1.11 and today's main are identical on the wire. A binary message in the 1.9 layout would
// decode as samples without values: sniffLegacyLayout recognises it by its first sample and its
// samples are renumbered to 1.10 before decoding. 1.8 (Profile's fields numbered differently too) is
// refused with 400 unsupported_otlp_version. OTLP/JSON names did not change between 1.9 and 1.10, so
// 1.9 JSON reads as it is; 1.8 JSON (`sample`, `commentStrindices`) is refused by the strict decoder.

import { create, fromBinary, fromJson, toBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  makeProfileType,
  pprofMetricName,
  ProfileBuilder,
  withFrameKind,
  type LabelPair,
  type Profile,
  type ProfileType,
} from '@hotpath/core';
import {
  ExportProfilesPartialSuccessSchema,
  ExportProfilesServiceRequestSchema,
  ExportProfilesServiceResponseSchema,
  type ExportProfilesServiceRequest,
} from '../gen/opentelemetry/proto/collector/profiles/v1development/profiles_service_pb.ts';
import type { AnyValue, KeyValue } from '../gen/opentelemetry/proto/common/v1/common_pb.ts';
import {
  ProfilesDictionarySchema,
  type Profile as OtlpProfile,
  type ProfilesDictionary,
} from '../gen/opentelemetry/proto/profiles/v1development/profiles_pb.ts';
import { HotpathError } from '../errors.ts';
import { IngestErrors } from './errors.ts';
import type { Upload } from './normalize.ts';

export type { ExportProfilesServiceRequest };

/** OTLP/HTTP path and the gRPC method path of ProfilesService/Export. */
export const OTLP_HTTP_PATH = '/v1development/profiles';
export const OTLP_GRPC_PATH = '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export';

const FRAME_TYPE = 'profile.frame.type';
const SERVICE_NAME = 'service.name';
const UNKNOWN_SERVICE = 'unknown_service';
const INT32_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Decoding

/** Fields of the path resource_profiles → scope_profiles → profiles → samples, each LEN. */
const SAMPLE_PATH = [1, 2, 2, 2];

/** The LEN-typed fields numbered `field` of a message. */
function children(b: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === field && wt === WireType.LengthDelimited) out.push(r.bytes());
    else r.skip(wt, no);
  }
  return out;
}

/**
 * The layout of a binary request, told by its first telling Profile and Sample: null for 1.10+ (or
 * no sample, or bytes too damaged to tell: the decoder will say so); otherwise the release it is
 * laid out as and why. A 1.9 sample keeps values at 2, attribute_indices at 3 and link_index at 4;
 * 1.8 also numbered Profile's fields differently (comment_strindices at 7 pushed the rest up by one).
 * A 1.9 sample with values and timestamps and neither attributes nor link reads like a 1.10 sample
 * with attributes and timestamps: that one case is not told apart.
 */
export function sniffLegacyLayout(bytes: Uint8Array): { release: '1.8' | '1.9'; why: string } | null {
  try {
    for (const rp of children(bytes, 1))
      for (const sp of children(rp, 2))
        for (const p of children(sp, 2)) {
          let v18: string | undefined;
          const pr = new BinaryReader(p);
          while (pr.pos < pr.len) {
            const [no, wt] = pr.tag();
            if (no === 12)
              v18 = 'Profile field 12 is set (attribute_indices in 1.8; no such field since 1.9)';
            if (no === 8 && wt === WireType.LengthDelimited)
              v18 = 'Profile field 8 holds bytes (profile_id in 1.8; dropped_attributes_count since 1.9)';
            pr.skip(wt, no);
          }
          for (const s of children(p, 2)) {
            const r = new BinaryReader(s);
            let has2 = false;
            let has4or5 = false;
            let why: string | undefined;
            while (r.pos < r.len && why === undefined) {
              const [no, wt] = r.tag();
              if (no === 3 && wt === WireType.LengthDelimited)
                why = 'Sample field 3 holds a list (attribute_indices before 1.10; link_index since)';
              else if (no === 4 && wt === WireType.Varint)
                why = 'Sample field 4 holds a single varint (link_index before 1.10; packed values since)';
              if (no === 2) has2 = true;
              if (no === 4 || no === 5) has4or5 = true;
              r.skip(wt, no);
            }
            if (why === undefined && has2 && !has4or5)
              why =
                'a Sample has field 2 but no values (field 4) and no timestamps: values moved from field 2 to 4 in 1.10';
            if (why !== undefined)
              return v18 === undefined ? { release: '1.9', why } : { release: '1.8', why: v18 };
            if (has4or5) return null;
          }
        }
  } catch {
    return null;
  }
  return null;
}

/** 1.9 Sample field numbers → 1.10's: values 2 → 4, attribute_indices 3 → 2, link_index 4 → 3. */
export const SAMPLE_1_9_TO_1_10: Readonly<Record<number, number>> = { 2: 4, 3: 2, 4: 3 };

/**
 * The request with its Sample fields renumbered by `map` (1.9 → 1.10: SAMPLE_1_9_TO_1_10; 1.9 and
 * 1.10 differ nowhere else on the wire); everything off the sample path is copied as it is.
 */
export function renumberSampleFields(
  bytes: Uint8Array,
  map: Readonly<Record<number, number>>,
  depth = 0,
): Uint8Array {
  const w = new BinaryWriter();
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const start = r.pos;
    const [no, wt] = r.tag();
    if (depth < SAMPLE_PATH.length && no === SAMPLE_PATH[depth] && wt === WireType.LengthDelimited) {
      w.tag(no, wt).bytes(renumberSampleFields(r.bytes(), map, depth + 1));
      continue;
    }
    const valueStart = r.pos;
    r.skip(wt, no);
    const renumbered = depth === SAMPLE_PATH.length ? map[no] : undefined;
    if (renumbered !== undefined) w.tag(renumbered, wt).raw(bytes.subarray(valueStart, r.pos));
    else w.raw(bytes.subarray(start, r.pos));
  }
  return w.finish();
}

/** A binary request of 1.10+, or 1.9 (renumbered first); 1.8 and older are refused. */
export function decodeOtlpBinary(bytes: Uint8Array): ExportProfilesServiceRequest {
  const legacy = sniffLegacyLayout(bytes);
  if (legacy?.release === '1.8') throw IngestErrors.unsupportedOtlpVersion(legacy.why);
  try {
    return fromBinary(
      ExportProfilesServiceRequestSchema,
      legacy === null ? bytes : renumberSampleFields(bytes, SAMPLE_1_9_TO_1_10),
    );
  } catch (e) {
    throw IngestErrors.malformedBody('otlp', (e as Error).message);
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** OTLP/JSON writes trace and span ids (and profile ids) as hex, not protojson's base64. */
function hexIdsToBase64(json: Record<string, unknown>): void {
  const fix = (o: unknown, key: string) => {
    if (o === null || typeof o !== 'object') return;
    const rec = o as Record<string, unknown>;
    const v = rec[key];
    if (typeof v === 'string' && HEX.test(v)) rec[key] = Buffer.from(v, 'hex').toString('base64');
  };
  const dict = json.dictionary as Record<string, unknown> | undefined;
  const links = dict?.linkTable ?? dict?.link_table;
  if (Array.isArray(links))
    for (const l of links) for (const k of ['traceId', 'trace_id', 'spanId', 'span_id']) fix(l, k);
  const rps = json.resourceProfiles ?? json.resource_profiles;
  if (!Array.isArray(rps)) return;
  for (const rp of rps) {
    const sps =
      (rp as Record<string, unknown> | null)?.scopeProfiles ??
      (rp as Record<string, unknown> | null)?.scope_profiles;
    if (!Array.isArray(sps)) continue;
    for (const sp of sps) {
      const ps = (sp as Record<string, unknown> | null)?.profiles;
      if (Array.isArray(ps)) for (const p of ps) for (const k of ['profileId', 'profile_id']) fix(p, k);
    }
  }
}

/** `json` is the parsed body (depth already checked). */
export function decodeOtlpJson(json: unknown): ExportProfilesServiceRequest {
  try {
    hexIdsToBase64(json as Record<string, unknown>);
    return fromJson(ExportProfilesServiceRequestSchema, json as JsonValue);
  } catch (e) {
    throw IngestErrors.malformedBody('otlp', (e as Error).message);
  }
}

/** The ExportProfilesServiceResponse: partial_success only when something was rejected or is said. */
export function otlpResponse(rejected: number, message: string, json: boolean): Uint8Array | string {
  const res = create(ExportProfilesServiceResponseSchema, {});
  if (rejected > 0 || message !== '')
    res.partialSuccess = create(ExportProfilesPartialSuccessSchema, {
      rejectedProfiles: BigInt(rejected),
      errorMessage: message,
    });
  return json
    ? JSON.stringify(toJson(ExportProfilesServiceResponseSchema, res))
    : toBinary(ExportProfilesServiceResponseSchema, res);
}

// ---------------------------------------------------------------------------------------------
// Mapping

/** One OTLP profile: its Upload, or why it cannot be read; `where` names it in messages. */
export interface OtlpEntry {
  readonly where: string;
  readonly upload?: Upload;
  readonly error?: unknown;
}

/** Index-checked access to the request's dictionary tables. */
class Dictionary {
  constructor(readonly d: ProfilesDictionary) {}

  at<T>(table: readonly T[], name: string, index: number): T {
    const v = table[index];
    if (v === undefined)
      throw IngestErrors.malformedProfile(
        `${name} index ${index} is outside the table (${table.length} entries)`,
        {
          table: name,
          index,
          length: table.length,
        },
      );
    return v;
  }

  str(index: number): string {
    return this.at(this.d.stringTable, 'string_table', index);
  }

  /** A string-valued AnyValue (inline or by string_table index); undefined for other kinds. */
  stringOf(v: AnyValue | undefined): string | undefined {
    if (v?.value.case === 'stringValue') return v.value.value;
    if (v?.value.case === 'stringValueStrindex') return this.str(v.value.value);
    return undefined;
  }

  keyOf(kv: KeyValue): string {
    return kv.key !== '' ? kv.key : this.str(kv.keyStrindex);
  }

  /** The string attributes at `indices` of attribute_table, as [key, value]. */
  attributes(indices: readonly number[]): [string, string][] {
    const out: [string, string][] = [];
    for (const i of indices) {
      const a = this.at(this.d.attributeTable, 'attribute_table', i);
      const v = this.stringOf(a.value);
      if (v !== undefined) out.push([this.str(a.keyStrindex), v]);
    }
    return out;
  }
}

/** Series labels of a resource and scope, and the service name they give. */
function resourceLabels(dict: Dictionary, resource: readonly KeyValue[], scope: readonly KeyValue[]) {
  const labels: LabelPair[] = [];
  const seen = new Set<string>();
  let service: string | undefined;
  let executable: string | undefined;
  for (const kv of [...resource, ...scope]) {
    const key = dict.keyOf(kv);
    const value = dict.stringOf(kv.value);
    if (value === undefined || value === '' || seen.has(key)) continue;
    seen.add(key);
    if (key === SERVICE_NAME) service ??= value;
    else {
      if (key === 'process.executable.name') executable = value;
      labels.push({ name: key, value });
    }
  }
  const fallback = executable === undefined ? UNKNOWN_SERVICE : `${UNKNOWN_SERVICE}:${executable}`;
  return { labels, service: service ?? fallback };
}

/** The Hotpath profile type of an OTLP profile and the factor its values are multiplied by. */
function profileTypeOf(dict: Dictionary, p: OtlpProfile): { type: ProfileType; scale: number } {
  if (p.sampleType === undefined) throw IngestErrors.malformedProfile('profile has no sample_type');
  const sampleType = dict.str(p.sampleType.typeStrindex);
  const sampleUnit = dict.str(p.sampleType.unitStrindex);
  if (sampleType === '') throw IngestErrors.malformedProfile('sample_type has an empty type');
  const period = Number(p.period);
  const [periodType, periodUnit] =
    p.periodType !== undefined && period !== 0
      ? [dict.str(p.periodType.typeStrindex), dict.str(p.periodType.unitStrindex)]
      : ['', ''];
  if (
    sampleType === 'samples' &&
    sampleUnit === 'count' &&
    periodType === 'cpu' &&
    periodUnit === 'nanoseconds'
  ) {
    if (!(period > 0 && Number.isSafeInteger(period)))
      throw IngestErrors.malformedProfile(`period ${p.period} must be a positive number of nanoseconds`);
    return {
      type: makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds'),
      scale: period,
    };
  }
  const name = sampleType === 'off_cpu' || sampleType === 'wall' ? sampleType : pprofMetricName([sampleType]);
  return { type: makeProfileType(name, sampleType, sampleUnit, periodType, periodUnit), scale: 1 };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * The frame, stack and label-set tables of one request, shared by all its profiles (the dictionary is
 * shared too): each location and stack is mapped once, and the write path hashes the shared stack
 * table once (it caches ids per table). Entries a rejected profile added stay, unreferenced.
 */
class RequestTables {
  private readonly b = new ProfileBuilder([makeProfileType('otlp', 'otlp', 'otlp')]);
  private readonly locationFrames = new Map<number, number[]>();
  private readonly stackOf = new Map<number, number>();
  private readonly labelSetOf = new Map<string, number>();

  constructor(private readonly dict: Dictionary) {}

  /** Builder frames of a location, root first (a location's lines are innermost first). */
  private framesOf(li: number): number[] {
    let frames = this.locationFrames.get(li);
    if (frames !== undefined) return frames;
    const { dict, b } = this;
    const loc = dict.at(dict.d.locationTable, 'location_table', li);
    const mapping = dict.at(dict.d.mappingTable, 'mapping_table', loc.mappingIndex);
    const mappingFile = dict.str(mapping.filenameStrindex);
    const kind =
      (dict.attributes(loc.attributeIndices).find(([k]) => k === FRAME_TYPE) ??
        dict.attributes(mapping.attributeIndices).find(([k]) => k === FRAME_TYPE))?.[1] ?? '';
    const unsymbolised = `${basename(mappingFile) || '[unknown]'}+0x${loc.address.toString(16)}`;
    frames = [];
    if (loc.lines.length === 0) frames.push(b.frame(withFrameKind(unsymbolised, kind), mappingFile));
    for (let k = loc.lines.length - 1; k >= 0; k--) {
      const line = loc.lines[k]!;
      const fn = dict.at(dict.d.functionTable, 'function_table', line.functionIndex);
      const name = dict.str(fn.nameStrindex) || dict.str(fn.systemNameStrindex) || unsymbolised;
      // A native function without a source file is told apart by its binary.
      const file = dict.str(fn.filenameStrindex) || (kind === '' || kind === 'cpython' ? '' : mappingFile);
      const lineNo = Math.min(INT32_MAX, Math.max(0, Number(line.line)));
      frames.push(b.frame(withFrameKind(name, kind), file, lineNo));
    }
    this.locationFrames.set(li, frames);
    return frames;
  }

  /** The builder stack of a stack_table entry (-1 when it has no locations). */
  stack(si: number): number {
    let stack = this.stackOf.get(si);
    if (stack === undefined) {
      const locs = this.dict.at(this.dict.d.stackTable, 'stack_table', si).locationIndices;
      stack = -1;
      for (let k = locs.length - 1; k >= 0; k--)
        for (const f of this.framesOf(locs[k]!)) stack = this.b.stack(stack, f);
      this.stackOf.set(si, stack);
    }
    return stack;
  }

  /** The label set of a sample's attributes and link, with `service` unless it names its own. */
  labelSet(attributeIndices: readonly number[], linkIndex: number, service: string): number {
    const key = `${service}\u0000${attributeIndices.join(',')}|${linkIndex}`;
    let set = this.labelSetOf.get(key);
    if (set === undefined) {
      const pairs: LabelPair[] = [];
      let sampleService: string | undefined;
      for (const [k, v] of this.dict.attributes(attributeIndices)) {
        if (k === SERVICE_NAME) sampleService = v;
        else pairs.push({ name: k, value: v });
      }
      pairs.push({ name: 'service_name', value: sampleService ?? service });
      if (linkIndex !== 0) {
        const link = this.dict.at(this.dict.d.linkTable, 'link_table', linkIndex);
        if (link.spanId.length > 0) pairs.push({ name: 'span_id', value: hex(link.spanId) });
        if (link.traceId.length > 0) pairs.push({ name: 'trace_id', value: hex(link.traceId) });
      }
      set = this.b.labelSet(pairs);
      this.labelSetOf.set(key, set);
    }
    return set;
  }

  /** The tables so far (call once every profile has been mapped). */
  build(): Pick<Profile, 'frames' | 'stacks' | 'sampleLabelSets'> {
    const { frames, stacks, sampleLabelSets } = this.b.build()[0]!;
    return { frames, stacks, sampleLabelSets };
  }
}

/** One OTLP profile's samples as columns over the request's tables, its type and its scale. */
interface MappedProfile {
  readonly type: ProfileType;
  readonly scale: number;
  readonly p: OtlpProfile;
  readonly stack: Int32Array;
  readonly value: Float64Array;
  readonly labelSet: Int32Array;
}

function mapSamples(dict: Dictionary, tables: RequestTables, p: OtlpProfile, service: string): MappedProfile {
  const { type, scale } = profileTypeOf(dict, p);
  const n = p.samples.length;
  const stack = new Int32Array(n);
  const value = new Float64Array(n);
  const labelSet = new Int32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const s = p.samples[i]!;
    const st = tables.stack(s.stackIndex);
    let v: number;
    if (s.values.length === 0) {
      if (s.timestampsUnixNano.length === 0)
        throw IngestErrors.malformedProfile(`sample ${i} has neither values nor timestamps_unix_nano`, {
          sample: i,
        });
      v = s.timestampsUnixNano.length;
    } else {
      if (s.timestampsUnixNano.length !== 0 && s.timestampsUnixNano.length !== s.values.length)
        throw IngestErrors.malformedProfile(
          `sample ${i} has ${s.values.length} values and ${s.timestampsUnixNano.length} timestamps; they must be as many`,
          { sample: i },
        );
      v = 0;
      for (const x of s.values) v += Number(x);
    }
    const set = tables.labelSet(s.attributeIndices, s.linkIndex, service);
    // A sample without locations has no stack to count under (as in pprof): dropped.
    if (st === -1) continue;
    stack[kept] = st;
    value[kept] = v;
    labelSet[kept++] = set;
  }
  return {
    type,
    scale,
    p,
    stack: stack.subarray(0, kept),
    value: value.subarray(0, kept),
    labelSet: labelSet.subarray(0, kept),
  };
}

/** Every profile of the request as an entry, in request order; mapping errors stay per profile. */
export function otlpUploads(req: ExportProfilesServiceRequest, nowMs: number): OtlpEntry[] {
  const dict = new Dictionary(req.dictionary ?? create(ProfilesDictionarySchema));
  const tables = new RequestTables(dict);
  const mapped: { where: string; labels?: LabelPair[]; m?: MappedProfile; error?: unknown }[] = [];
  req.resourceProfiles.forEach((rp, r) => {
    rp.scopeProfiles.forEach((sp, s) => {
      sp.profiles.forEach((p, i) => {
        const where = `resource_profiles[${r}].scope_profiles[${s}].profiles[${i}]`;
        try {
          if (req.dictionary === undefined)
            throw IngestErrors.malformedProfile('the request has no dictionary');
          const { labels, service } = resourceLabels(
            dict,
            rp.resource?.attributes ?? [],
            sp.scope?.attributes ?? [],
          );
          mapped.push({ where, labels, m: mapSamples(dict, tables, p, service) });
        } catch (error) {
          mapped.push({ where, error });
        }
      });
    });
  });
  const shared = tables.build();
  return mapped.map(({ where, labels, m, error }): OtlpEntry => {
    if (m === undefined) return { where, error };
    const profile: Profile = {
      type: m.type,
      timeNs: Number(m.p.timeUnixNano),
      durationNs: Number(m.p.durationNano),
      period: Number(m.p.period),
      ...shared,
      samples: { length: m.stack.length, stack: m.stack, value: m.value, labelSet: m.labelSet },
    };
    return {
      where,
      upload: {
        profiles: [profile],
        labels: labels!,
        fallbackTimeMs: nowMs,
        preferProfileTime: true,
        scale: m.scale,
      },
    };
  });
}

/** `err` with the profile it concerns in front of its message (same code, status and details). */
export function atProfile(where: string, err: unknown): unknown {
  if (!(err instanceof HotpathError)) return err;
  return new HotpathError(err.code, err.httpStatus, err.connectCode, `${where}: ${err.message}`, err.details);
}
