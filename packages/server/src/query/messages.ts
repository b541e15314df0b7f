// querier.v1 / types.v1 messages (compat §3.3) with hand-written protobuf and protojson codecs.
// protojson: lowerCamelCase names (the proto names are accepted too), int64 as strings, enums as
// names, default values omitted. Field numbers are those of api/querier/v1/querier.proto.

import { clampSampleValue, type Labels } from '@hotpath/core';
import { requestErrors, type HotpathError } from '../errors.ts';
import { queryErrors } from './errors.ts';
import { ProtoReader, ProtoWriter, WIRE_I64, WIRE_LEN } from '../connect/wire.ts';
import { jsonInt64, jsonString, jsonStrings } from '../connect/unary.ts';
import { toBinary, toJson } from '@bufbuild/protobuf';
import {
  FunctionTableDiffSchema,
  FunctionTableSchema,
  SandwichReportSchema,
  type FunctionTable,
  type FunctionTableDiff,
  type SandwichReport,
} from '../gen/querier/v1/functions_pb.ts';

// ---------------------------------------------------------------------------------------------
// Request types

export interface RangeRequest {
  /** ms since epoch; 0 = absent. */
  start: number;
  end: number;
}

export interface LabelNamesRequest extends RangeRequest {
  matchers: string[];
}

export interface LabelValuesRequest extends LabelNamesRequest {
  name: string;
}

export interface SeriesRequest extends LabelNamesRequest {
  labelNames: string[];
}

export enum ProfileFormat {
  Unspecified = 0,
  Flamegraph = 1,
  Tree = 2,
  Dot = 3,
  Pprof = 4,
  /** Hotpath's numbers for the Drilldown app's formats (proto/querier/v1/functions.proto). */
  Functions = 5,
  Sandwich = 6,
}
const PROFILE_FORMAT_NAMES = [
  'PROFILE_FORMAT_UNSPECIFIED',
  'PROFILE_FORMAT_FLAMEGRAPH',
  'PROFILE_FORMAT_TREE',
  'PROFILE_FORMAT_DOT',
  'PROFILE_FORMAT_PPROF',
  'PROFILE_FORMAT_FUNCTIONS',
  'PROFILE_FORMAT_SANDWICH',
];

export interface SelectRequest extends RangeRequest {
  profileTypeId: string;
  labelSelector: string;
  /** undefined when the optional field is absent. */
  maxNodes: number | undefined;
  format: ProfileFormat;
  /** True when a stack_trace_selector was sent (not supported: ignored → documented). */
  hasStackTraceSelector: boolean;
  spanSelector: string[];
  /** PROFILE_FORMAT_SANDWICH's function (field 12, Hotpath's number); '' when absent. */
  sandwichFunction?: string;
  /** trace_id_selector (SelectMergeStacktraces 10, SelectMergeProfile 8). */
  traceIdSelector: string[];
}

export interface SelectSeriesRequest extends RangeRequest {
  profileTypeId: string;
  labelSelector: string;
  groupBy: string[];
  /** Seconds; 0 = absent. */
  step: number;
  aggregation: 'sum' | 'avg';
  limit: number;
  /** types.v1.ExemplarType: 0 unspecified, 1 none, 2 individual, 3 span. */
  exemplarType: number;
  /** stack_trace_selector (8): its call_site names, root first; go_pgo is read and ignored. */
  callSite: string[];
  /** Hotpath's field 100: only stacks with a frame of this function ('' = every stack). */
  functionName: string;
  /** Hotpath's field 101: answer this recording rule's series ('' = none). */
  ruleId: string;
}

export interface DiffRequest {
  left: SelectRequest | undefined;
  right: SelectRequest | undefined;
  /** PROFILE_FORMAT_FUNCTIONS asks for the joined function table (fields 3 and 4: Hotpath's numbers). */
  format: ProfileFormat;
  /** Rows of the function table; undefined when absent. */
  maxNodes: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Response types

export interface ProfileTypeMessage {
  id: string;
  name: string;
  sampleType: string;
  sampleUnit: string;
  periodType: string;
  periodUnit: string;
}

export interface FlameGraphMessage {
  names: string[];
  levels: number[][];
  total: number;
  maxSelf: number;
}

export interface FlameGraphDiffMessage extends FlameGraphMessage {
  leftTicks: number;
  rightTicks: number;
}

export interface SelectMergeStacktracesResponse {
  flamegraph?: FlameGraphMessage;
  /** PROFILE_FORMAT_TREE: Pyroscope's serialized tree (tree-bytes.ts). */
  tree?: Uint8Array;
  dot?: string;
  /** google.v1.Profile bytes (not gzipped). */
  pprof?: Uint8Array;
  /** PROFILE_FORMAT_FUNCTIONS (field 6) and PROFILE_FORMAT_SANDWICH (field 7): functions.proto. */
  functions?: FunctionTable;
  sandwich?: SandwichReport;
}

/** types.v1.Exemplar: Hotpath's exemplars are spans (span_id, trace_id, `span_name` label). */
export interface ExemplarMessage {
  timestampMs: number;
  spanId: string;
  traceId: string;
  value: number;
  labels: Labels;
}

export interface SeriesMessage {
  labels: Labels;
  points: { value: number; timestampMs: number; exemplars?: ExemplarMessage[] }[];
}

export interface ProfileStatsMessage {
  dataIngested: boolean;
  oldestProfileTime: number;
  newestProfileTime: number;
}

// ---------------------------------------------------------------------------------------------
// Binary decoding helpers

function readFields(bytes: Uint8Array, on: (field: number, wire: number, r: ProtoReader) => boolean): void {
  const r = new ProtoReader(bytes);
  readFieldsOf(r, on);
}

function readFieldsOf(r: ProtoReader, on: (field: number, wire: number, r: ProtoReader) => boolean): void {
  while (!r.done) {
    const [field, wire] = r.key();
    if (!on(field, wire, r)) r.skip(wire);
  }
}

function wrongWire(field: number, wire: number, at: number): HotpathError {
  return requestErrors.malformedProtobuf(
    `malformed protobuf: field ${field} has wire type ${wire} at offset ${at}`,
    { field, offset: at },
  );
}

function str(r: ProtoReader, field: number, wire: number): string {
  if (wire !== WIRE_LEN) throw wrongWire(field, wire, r.pos);
  return r.string();
}

function int(r: ProtoReader, field: number, wire: number): number {
  if (wire !== 0) throw wrongWire(field, wire, r.pos);
  return r.int64();
}

// ---------------------------------------------------------------------------------------------
// JSON decoding helpers

type Json = Record<string, unknown>;

/** A protojson field by its JSON name or its proto name. */
function field(j: Json, jsonName: string, protoName = jsonName): unknown {
  return j[jsonName] !== undefined ? j[jsonName] : j[protoName];
}

function has(j: Json, jsonName: string, protoName = jsonName): boolean {
  return field(j, jsonName, protoName) !== undefined && field(j, jsonName, protoName) !== null;
}

function jsonDouble(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw requestErrors.malformedJson(`field '${name}' must be a finite number`);
  return n;
}

function jsonEnum(v: unknown, names: readonly string[], name: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i !== -1) return i;
  }
  throw requestErrors.malformedJson(`field '${name}' must be one of ${names.join(', ')}`);
}

function jsonObject(v: unknown, name: string): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw requestErrors.malformedJson(`field '${name}' must be an object`);
  return v as Json;
}

// ---------------------------------------------------------------------------------------------
// Requests: decoders

export const ProfileTypesRequestCodec = {
  binary(bytes: Uint8Array): RangeRequest {
    const out = { start: 0, end: 0 };
    readFields(bytes, (f, w, r) => {
      if (f === 1) out.start = int(r, f, w);
      else if (f === 2) out.end = int(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): RangeRequest {
    return { start: jsonInt64(j.start, 'start'), end: jsonInt64(j.end, 'end') };
  },
};

export const LabelNamesRequestCodec = {
  binary(bytes: Uint8Array): LabelNamesRequest {
    const out: LabelNamesRequest = { matchers: [], start: 0, end: 0 };
    readFields(bytes, (f, w, r) => {
      if (f === 1) out.matchers.push(str(r, f, w));
      else if (f === 2) out.start = int(r, f, w);
      else if (f === 3) out.end = int(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): LabelNamesRequest {
    return {
      matchers: jsonStrings(j.matchers, 'matchers'),
      start: jsonInt64(j.start, 'start'),
      end: jsonInt64(j.end, 'end'),
    };
  },
};

export const LabelValuesRequestCodec = {
  binary(bytes: Uint8Array): LabelValuesRequest {
    const out: LabelValuesRequest = { name: '', matchers: [], start: 0, end: 0 };
    readFields(bytes, (f, w, r) => {
      if (f === 1) out.name = str(r, f, w);
      else if (f === 2) out.matchers.push(str(r, f, w));
      else if (f === 3) out.start = int(r, f, w);
      else if (f === 4) out.end = int(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): LabelValuesRequest {
    return {
      name: jsonString(j.name, 'name'),
      matchers: jsonStrings(j.matchers, 'matchers'),
      start: jsonInt64(j.start, 'start'),
      end: jsonInt64(j.end, 'end'),
    };
  },
};

export const SeriesRequestCodec = {
  binary(bytes: Uint8Array): SeriesRequest {
    const out: SeriesRequest = { matchers: [], labelNames: [], start: 0, end: 0 };
    readFields(bytes, (f, w, r) => {
      if (f === 1) out.matchers.push(str(r, f, w));
      else if (f === 2) out.labelNames.push(str(r, f, w));
      else if (f === 3) out.start = int(r, f, w);
      else if (f === 4) out.end = int(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): SeriesRequest {
    return {
      matchers: jsonStrings(j.matchers, 'matchers'),
      labelNames: jsonStrings(field(j, 'labelNames', 'label_names'), 'labelNames'),
      start: jsonInt64(j.start, 'start'),
      end: jsonInt64(j.end, 'end'),
    };
  },
};

function emptySelect(): SelectRequest {
  return {
    profileTypeId: '',
    labelSelector: '',
    start: 0,
    end: 0,
    maxNodes: undefined,
    format: 0,
    hasStackTraceSelector: false,
    spanSelector: [],
    sandwichFunction: '',
    traceIdSelector: [],
  };
}

/** Field numbers differ between SelectMergeStacktraces, SelectMergeProfile and SelectMergeSpanProfile. */
interface SelectLayout {
  start: number;
  end: number;
  maxNodes: number;
  format?: number;
  stackTraceSelector?: number;
  spanSelector?: number;
  sandwichFunction?: number;
  traceIdSelector?: number;
}
const STACKTRACES: SelectLayout = {
  start: 3,
  end: 4,
  maxNodes: 5,
  format: 6,
  stackTraceSelector: 7,
  traceIdSelector: 10,
  spanSelector: 11,
  sandwichFunction: 12,
};
const MERGE_PROFILE: SelectLayout = {
  start: 3,
  end: 4,
  maxNodes: 5,
  stackTraceSelector: 6,
  traceIdSelector: 8,
};
const SPAN_PROFILE: SelectLayout = { start: 4, end: 5, maxNodes: 6, format: 7, spanSelector: 3 };

function decodeSelectFrom(r: ProtoReader, layout: SelectLayout): SelectRequest {
  const out = emptySelect();
  readFieldsOf(r, (f, w, rr) => {
    if (f === 1) out.profileTypeId = str(rr, f, w);
    else if (f === 2) out.labelSelector = str(rr, f, w);
    else if (f === layout.start) out.start = int(rr, f, w);
    else if (f === layout.end) out.end = int(rr, f, w);
    else if (f === layout.maxNodes) out.maxNodes = int(rr, f, w);
    else if (f === layout.format) out.format = int(rr, f, w);
    else if (f === layout.spanSelector) out.spanSelector.push(str(rr, f, w));
    else if (f === layout.sandwichFunction) out.sandwichFunction = str(rr, f, w);
    else if (f === layout.traceIdSelector) out.traceIdSelector.push(str(rr, f, w));
    else if (f === layout.stackTraceSelector && w === WIRE_LEN) {
      if (rr.bytes().length > 0) out.hasStackTraceSelector = true;
    } else return false;
    return true;
  });
  return out;
}

function decodeSelectJson(j: Json): SelectRequest {
  const out = emptySelect();
  out.profileTypeId = jsonString(field(j, 'profileTypeID', 'profile_typeID'), 'profileTypeID');
  out.labelSelector = jsonString(field(j, 'labelSelector', 'label_selector'), 'labelSelector');
  out.start = jsonInt64(j.start, 'start');
  out.end = jsonInt64(j.end, 'end');
  if (has(j, 'maxNodes', 'max_nodes'))
    out.maxNodes = jsonInt64(field(j, 'maxNodes', 'max_nodes'), 'maxNodes');
  out.format = jsonEnum(j.format, PROFILE_FORMAT_NAMES, 'format');
  const sts = jsonObject(field(j, 'stackTraceSelector', 'stack_trace_selector'), 'stackTraceSelector');
  out.hasStackTraceSelector = sts !== undefined && Object.keys(sts).length > 0;
  out.spanSelector = jsonStrings(field(j, 'spanSelector', 'span_selector'), 'spanSelector');
  out.sandwichFunction = jsonString(field(j, 'sandwichFunction', 'sandwich_function'), 'sandwichFunction');
  out.traceIdSelector = jsonStrings(field(j, 'traceIdSelector', 'trace_id_selector'), 'traceIdSelector');
  return out;
}

export const SelectMergeStacktracesRequestCodec = {
  binary: (bytes: Uint8Array): SelectRequest => decodeSelectFrom(new ProtoReader(bytes), STACKTRACES),
  json: decodeSelectJson,
};

export const SelectMergeProfileRequestCodec = {
  binary: (bytes: Uint8Array): SelectRequest => decodeSelectFrom(new ProtoReader(bytes), MERGE_PROFILE),
  json: decodeSelectJson,
};

export const SelectMergeSpanProfileRequestCodec = {
  binary: (bytes: Uint8Array): SelectRequest => decodeSelectFrom(new ProtoReader(bytes), SPAN_PROFILE),
  json: decodeSelectJson,
};

const AGGREGATION_NAMES = ['TIME_SERIES_AGGREGATION_TYPE_SUM', 'TIME_SERIES_AGGREGATION_TYPE_AVERAGE'];
const EXEMPLAR_TYPE_NAMES = [
  'EXEMPLAR_TYPE_UNSPECIFIED',
  'EXEMPLAR_TYPE_NONE',
  'EXEMPLAR_TYPE_INDIVIDUAL',
  'EXEMPLAR_TYPE_SPAN',
];

function aggregationOf(v: number): 'sum' | 'avg' {
  if (v === 0) return 'sum';
  if (v === 1) return 'avg';
  throw queryErrors.invalidAggregation(v);
}

export const SelectSeriesRequestCodec = {
  binary(bytes: Uint8Array): SelectSeriesRequest {
    const out: SelectSeriesRequest = {
      profileTypeId: '',
      labelSelector: '',
      start: 0,
      end: 0,
      groupBy: [],
      step: 0,
      aggregation: 'sum',
      limit: 0,
      exemplarType: 0,
      callSite: [],
      functionName: '',
      ruleId: '',
    };
    readFields(bytes, (f, w, r) => {
      if (f === 1) out.profileTypeId = str(r, f, w);
      else if (f === 2) out.labelSelector = str(r, f, w);
      else if (f === 3) out.start = int(r, f, w);
      else if (f === 4) out.end = int(r, f, w);
      else if (f === 5) out.groupBy.push(str(r, f, w));
      else if (f === 6) {
        if (w !== WIRE_I64) throw wrongWire(f, w, r.pos);
        out.step = r.double();
      } else if (f === 7) out.aggregation = aggregationOf(int(r, f, w));
      else if (f === 9) out.limit = int(r, f, w);
      else if (f === 10) out.exemplarType = int(r, f, w);
      else if (f === 8) {
        if (w !== WIRE_LEN) throw wrongWire(f, w, r.pos);
        out.callSite.push(...callSiteOf(r.message()));
      } else if (f === 100) out.functionName = str(r, f, w);
      else if (f === 101) out.ruleId = str(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): SelectSeriesRequest {
    return {
      profileTypeId: jsonString(field(j, 'profileTypeID', 'profile_typeID'), 'profileTypeID'),
      labelSelector: jsonString(field(j, 'labelSelector', 'label_selector'), 'labelSelector'),
      start: jsonInt64(j.start, 'start'),
      end: jsonInt64(j.end, 'end'),
      groupBy: jsonStrings(field(j, 'groupBy', 'group_by'), 'groupBy'),
      step: jsonDouble(j.step, 'step'),
      aggregation: aggregationOf(jsonEnum(j.aggregation, AGGREGATION_NAMES, 'aggregation')),
      limit: jsonInt64(j.limit, 'limit'),
      exemplarType: jsonEnum(field(j, 'exemplarType', 'exemplar_type'), EXEMPLAR_TYPE_NAMES, 'exemplarType'),
      callSite: jsonCallSite(
        jsonObject(field(j, 'stackTraceSelector', 'stack_trace_selector'), 'stackTraceSelector'),
      ),
      functionName: jsonString(field(j, 'functionName', 'function_name'), 'functionName'),
      ruleId: jsonString(field(j, 'ruleId', 'rule_id'), 'ruleId'),
    };
  },
};

/** types.v1.StackTraceSelector's call_site (1: repeated Location, whose name is field 1). */
function callSiteOf(r: ProtoReader): string[] {
  const names: string[] = [];
  readFieldsOf(r, (f, w, rr) => {
    if (f !== 1) return false;
    if (w !== WIRE_LEN) throw wrongWire(f, w, rr.pos);
    let name = '';
    readFieldsOf(rr.message(), (lf, lw, lr) => {
      if (lf !== 1) return false;
      name = str(lr, lf, lw);
      return true;
    });
    names.push(name);
    return true;
  });
  return names;
}

function jsonCallSite(sts: Json | undefined): string[] {
  const sites = sts === undefined ? undefined : field(sts, 'callSite', 'call_site');
  if (sites === undefined || sites === null) return [];
  if (!Array.isArray(sites)) throw requestErrors.malformedJson(`field 'callSite' must be an array`);
  return sites.map((l, i) => jsonString(jsonObject(l, `callSite[${i}]`)?.name, `callSite[${i}].name`));
}

export const DiffRequestCodec = {
  binary(bytes: Uint8Array): DiffRequest {
    const out: DiffRequest = { left: undefined, right: undefined, format: 0, maxNodes: undefined };
    readFields(bytes, (f, w, r) => {
      if ((f === 1 || f === 2) && w === WIRE_LEN) {
        const side = decodeSelectFrom(r.message(), STACKTRACES);
        if (f === 1) out.left = side;
        else out.right = side;
        return true;
      }
      if (f === 3) out.format = int(r, f, w);
      else if (f === 4) out.maxNodes = int(r, f, w);
      else return false;
      return true;
    });
    return out;
  },
  json(j: Json): DiffRequest {
    const left = jsonObject(j.left, 'left');
    const right = jsonObject(j.right, 'right');
    return {
      left: left && decodeSelectJson(left),
      right: right && decodeSelectJson(right),
      format: jsonEnum(j.format, PROFILE_FORMAT_NAMES, 'format'),
      maxNodes: has(j, 'maxNodes', 'max_nodes')
        ? jsonInt64(field(j, 'maxNodes', 'max_nodes'), 'maxNodes')
        : undefined,
    };
  },
};

export const EmptyRequestCodec = {
  binary(bytes: Uint8Array): Record<string, never> {
    readFields(bytes, () => false);
    return {};
  },
  json(_j: Json): Record<string, never> {
    return {};
  },
};

// ---------------------------------------------------------------------------------------------
// Requests: encoders (clients and tests)

export function encodeSelectRequest(
  req: Partial<SelectRequest>,
  layout: 'stacktraces' | 'profile' | 'span' = 'stacktraces',
): Uint8Array {
  const l = layout === 'stacktraces' ? STACKTRACES : layout === 'profile' ? MERGE_PROFILE : SPAN_PROFILE;
  const w = new ProtoWriter().string(1, req.profileTypeId ?? '').string(2, req.labelSelector ?? '');
  for (const s of req.spanSelector ?? []) if (l.spanSelector !== undefined) w.string(l.spanSelector, s, true);
  for (const t of req.traceIdSelector ?? [])
    if (l.traceIdSelector !== undefined) w.string(l.traceIdSelector, t, true);
  w.int64(l.start, req.start ?? 0).int64(l.end, req.end ?? 0);
  if (req.maxNodes !== undefined) w.int64(l.maxNodes, req.maxNodes, true);
  if (l.format !== undefined) w.int64(l.format, req.format ?? 0);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Responses: encoders (binary and protojson)

/** An int64 as protojson text; never 'Infinity', 'NaN' or '1e+21' (see clampSampleValue). */
const s64 = (v: number): string => String(clampSampleValue(Math.round(v)));

function writeLabels(w: ProtoWriter, field: number, labels: Labels): void {
  for (const l of labels) w.message(field, (m) => m.string(1, l.name).string(2, l.value));
}

function labelsJson(labels: Labels): unknown[] {
  return labels.map((l) => {
    const o: Json = {};
    if (l.name !== '') o.name = l.name;
    if (l.value !== '') o.value = l.value;
    return o;
  });
}

export function encodeProfileTypes(types: ProfileTypeMessage[]): Uint8Array {
  const w = new ProtoWriter();
  for (const t of types) {
    w.message(1, (m) =>
      m
        .string(1, t.id)
        .string(2, t.name)
        .string(4, t.sampleType)
        .string(5, t.sampleUnit)
        .string(6, t.periodType)
        .string(7, t.periodUnit),
    );
  }
  return w.finish();
}

export function profileTypesJson(types: ProfileTypeMessage[]): unknown {
  if (types.length === 0) return {};
  return {
    profileTypes: types.map((t) => {
      const o: Json = {};
      if (t.id) o.ID = t.id;
      if (t.name) o.name = t.name;
      if (t.sampleType) o.sampleType = t.sampleType;
      if (t.sampleUnit) o.sampleUnit = t.sampleUnit;
      if (t.periodType) o.periodType = t.periodType;
      if (t.periodUnit) o.periodUnit = t.periodUnit;
      return o;
    }),
  };
}

export function encodeNames(names: string[]): Uint8Array {
  const w = new ProtoWriter();
  for (const n of names) w.string(1, n, true);
  return w.finish();
}

export function namesJson(names: string[]): unknown {
  return names.length === 0 ? {} : { names };
}

export function encodeSeriesResponse(sets: Labels[]): Uint8Array {
  const w = new ProtoWriter();
  for (const s of sets) w.message(2, (m) => writeLabels(m, 1, s));
  return w.finish();
}

export function seriesResponseJson(sets: Labels[]): unknown {
  if (sets.length === 0) return {};
  return { labelsSet: sets.map((s) => (s.length === 0 ? {} : { labels: labelsJson(s) })) };
}

function writeFlameGraph(w: ProtoWriter, fg: FlameGraphMessage | FlameGraphDiffMessage): void {
  for (const n of fg.names) w.string(1, n, true);
  for (const level of fg.levels) w.message(2, (m) => m.packedInt64(1, level));
  w.int64(3, fg.total).int64(4, fg.maxSelf);
  if ('leftTicks' in fg) w.int64(5, fg.leftTicks).int64(6, fg.rightTicks);
}

function flameGraphJson(fg: FlameGraphMessage | FlameGraphDiffMessage): Json {
  const o: Json = {};
  if (fg.names.length > 0) o.names = fg.names;
  if (fg.levels.length > 0) o.levels = fg.levels.map((l) => (l.length === 0 ? {} : { values: l.map(s64) }));
  if (fg.total !== 0) o.total = s64(fg.total);
  if (fg.maxSelf !== 0) o.maxSelf = s64(fg.maxSelf);
  if ('leftTicks' in fg) {
    if (fg.leftTicks !== 0) o.leftTicks = s64(fg.leftTicks);
    if (fg.rightTicks !== 0) o.rightTicks = s64(fg.rightTicks);
  }
  return o;
}

export function encodeSelectMergeStacktraces(res: SelectMergeStacktracesResponse): Uint8Array {
  const w = new ProtoWriter();
  const fg = res.flamegraph;
  if (fg !== undefined) w.message(1, (m) => writeFlameGraph(m, fg));
  if (res.tree !== undefined) w.bytes(2, res.tree, true);
  if (res.dot !== undefined) w.string(3, res.dot);
  const pprof = res.pprof;
  if (pprof !== undefined) w.message(5, (m) => m.bytes(1, pprof, true));
  if (res.functions !== undefined) w.bytes(6, toBinary(FunctionTableSchema, res.functions), true);
  if (res.sandwich !== undefined) w.bytes(7, toBinary(SandwichReportSchema, res.sandwich), true);
  return w.finish();
}

export function selectMergeStacktracesJson(
  res: SelectMergeStacktracesResponse,
  pprofJson?: (bytes: Uint8Array) => unknown,
): unknown {
  const o: Json = {};
  if (res.flamegraph !== undefined) o.flamegraph = flameGraphJson(res.flamegraph);
  if (res.tree !== undefined && res.tree.length > 0) o.tree = Buffer.from(res.tree).toString('base64');
  if (res.dot) o.dot = res.dot;
  if (res.pprof !== undefined && pprofJson !== undefined) o.pprof = { profile: pprofJson(res.pprof) };
  if (res.functions !== undefined) o.functions = toJson(FunctionTableSchema, res.functions);
  if (res.sandwich !== undefined) o.sandwich = toJson(SandwichReportSchema, res.sandwich);
  return o;
}

/** A diff flame graph (field 1), or with PROFILE_FORMAT_FUNCTIONS the joined function table (field 2). */
export type DiffResponse = FlameGraphDiffMessage | { functions: FunctionTableDiff };

export function encodeDiffResponse(res: DiffResponse): Uint8Array {
  if ('functions' in res)
    return new ProtoWriter().bytes(2, toBinary(FunctionTableDiffSchema, res.functions), true).finish();
  return new ProtoWriter().message(1, (m) => writeFlameGraph(m, res)).finish();
}

export function diffResponseJson(res: DiffResponse): unknown {
  if ('functions' in res) return { functions: toJson(FunctionTableDiffSchema, res.functions) };
  return { flamegraph: flameGraphJson(res) };
}

export function encodeSelectSeriesResponse(series: SeriesMessage[]): Uint8Array {
  const w = new ProtoWriter();
  for (const s of series) {
    w.message(1, (m) => {
      writeLabels(m, 1, s.labels);
      for (const p of s.points)
        m.message(2, (pm) => {
          pm.double(1, p.value).int64(2, p.timestampMs);
          for (const e of p.exemplars ?? [])
            pm.message(4, (em) => {
              em.int64(1, e.timestampMs).string(3, e.spanId).int64(4, e.value);
              writeLabels(em, 5, e.labels);
              em.string(6, e.traceId);
            });
        });
    });
  }
  return w.finish();
}

export function selectSeriesJson(series: SeriesMessage[]): unknown {
  if (series.length === 0) return {};
  return {
    series: series.map((s) => {
      const o: Json = {};
      if (s.labels.length > 0) o.labels = labelsJson(s.labels);
      if (s.points.length > 0) {
        o.points = s.points.map((p) => {
          const po: Json = {};
          if (p.value !== 0) po.value = p.value;
          if (p.timestampMs !== 0) po.timestamp = s64(p.timestampMs);
          if (p.exemplars !== undefined && p.exemplars.length > 0)
            po.exemplars = p.exemplars.map((e) => {
              const eo: Json = { timestamp: s64(e.timestampMs), spanId: e.spanId };
              if (e.value !== 0) eo.value = s64(e.value);
              if (e.labels.length > 0) eo.labels = labelsJson(e.labels);
              if (e.traceId !== '') eo.traceId = e.traceId;
              return eo;
            });
          return po;
        });
      }
      return o;
    }),
  };
}

export function encodeProfileStats(s: ProfileStatsMessage): Uint8Array {
  return new ProtoWriter()
    .bool(1, s.dataIngested)
    .int64(2, s.oldestProfileTime)
    .int64(3, s.newestProfileTime)
    .finish();
}

export function profileStatsJson(s: ProfileStatsMessage): unknown {
  const o: Json = {};
  if (s.dataIngested) o.dataIngested = true;
  if (s.oldestProfileTime !== 0) o.oldestProfileTime = s64(s.oldestProfileTime);
  if (s.newestProfileTime !== 0) o.newestProfileTime = s64(s.newestProfileTime);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Response decoders (tests and the CLI read binary answers back)

export function decodeFlameGraph(bytes: Uint8Array): FlameGraphDiffMessage {
  const out: FlameGraphDiffMessage = {
    names: [],
    levels: [],
    total: 0,
    maxSelf: 0,
    leftTicks: 0,
    rightTicks: 0,
  };
  readFields(bytes, (f, w, r) => {
    if (f === 1) out.names.push(str(r, f, w));
    else if (f === 2 && w === WIRE_LEN) {
      const level: number[] = [];
      readFieldsOf(r.message(), (lf, lw, lr) => {
        if (lf !== 1) return false;
        lr.repeatedInt64(lw, level);
        return true;
      });
      out.levels.push(level);
    } else if (f === 3) out.total = int(r, f, w);
    else if (f === 4) out.maxSelf = int(r, f, w);
    else if (f === 5) out.leftTicks = int(r, f, w);
    else if (f === 6) out.rightTicks = int(r, f, w);
    else return false;
    return true;
  });
  return out;
}

/** The flamegraph (field 1) of a SelectMergeStacktracesResponse or DiffResponse. */
export function decodeFlameGraphResponse(bytes: Uint8Array): FlameGraphDiffMessage | undefined {
  let fg: FlameGraphDiffMessage | undefined;
  readFields(bytes, (f, w, r) => {
    if (f !== 1 || w !== WIRE_LEN) return false;
    fg = decodeFlameGraph(r.bytes());
    return true;
  });
  return fg;
}
