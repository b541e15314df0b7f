// The fuzzed route families: each turns a seeded random source into one request built from a valid
// one (real bytes from the corpus, valid Connect messages, valid query strings) and then damaged.

import { gzipSync } from 'node:zlib';
import { ProtoWriter } from '../../src/connect/wire.ts';
import { PUSH_PATH } from '../../src/ingest/routes.ts';
import { KEYS_PATH } from '../../src/auth/routes.ts';
import { QUERIER } from '../../src/query/connect.ts';
import { CHANGES_SERVICE } from '../../src/query/changes.ts';
import { pushRequest } from '../support/pprof.ts';
import { OTLP_GRPC_PATH, OTLP_HTTP_PATH, renumberSampleFields } from '../../src/ingest/otlp.ts';
import { eBpfPythonRequest, otlpBinary, otlpJson } from '../support/otlp.ts';
import { RULES_METHODS, RULES_SERVICE } from '../../src/rules/service.ts';
import {
  chance,
  corpus,
  FUZZ_NOW_MS,
  int,
  maybeEncode,
  mutateBytes,
  mutateJson,
  mutateQuery,
  MULTIPART_BOUNDARY,
  ODD_CONTENT_TYPES,
  ODD_ENCODINGS,
  pick,
  printJson,
  type Family,
  type FuzzCase,
  type Rng,
} from './harness.ts';

const HOUR_MS = 3_600_000;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/** Written before every run (see known.ts) so selectors have something to match. */
export const KNOWN_SERVICE = 'fuzz-known';
/** A span of the known data (known.ts writes samples with this span_id). */
export const KNOWN_SPAN_ID = '00000000000a11ce';

function allCorpus(): Buffer[] {
  return Object.values(corpus()).flat();
}

export function tenantHeader(r: Rng): Record<string, string> {
  if (!chance(r, 0.1)) return {};
  return { 'x-scope-orgid': pick(r, ['anonymous', 'other', '', 'a'.repeat(500), 'ten|ant', '../x']) };
}

/** 1-2 mutations, or none (about 10% of cases stay valid so the accepting paths run too). */
export function damage(r: Rng, body: Buffer, json: boolean): Buffer {
  if (chance(r, 0.1)) return body;
  if (chance(r, 0.04)) return Buffer.alloc(0);
  let out = body;
  for (let k = 1 + int(r, 2); k > 0; k--)
    out = json && chance(r, 0.7) ? mutateJson(r, out, allCorpus()) : mutateBytes(r, out, allCorpus());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Write path

const INGEST_CONTENT_TYPE: Record<string, string> = {
  pprof: 'application/octet-stream',
  folded: 'text/plain',
  lines: 'binary/octet-stream+lines',
  trie: 'binary/octet-stream+trie',
  tree: 'binary/octet-stream+tree',
  speedscope: 'application/json',
  multipart: `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`,
};

const INGEST_PARAMS = [
  'name',
  'format',
  'from',
  'until',
  'sampleRate',
  'spyName',
  'units',
  'aggregationType',
];

function ingestFamily(format: string): Family {
  return {
    name: `ingest-${format}`,
    generate(r) {
      const base = pick(r, corpus()[format]!);
      const body = maybeEncode(r, damage(r, base, format === 'speedscope'));
      const fromS = FUZZ_NOW_MS / 1000;
      const app = pick(r, [
        `fuzz-${format}`,
        `fuzz-${format}.cpu`,
        `fuzz-${format}.alloc_space`,
        'fuzz{env=x}',
      ]);
      let query = `name=${encodeURIComponent(app)}&from=${fromS}&until=${fromS + 10}&spyName=pyspy&sampleRate=100`;
      if (format !== 'multipart' && chance(r, 0.6)) query += `&format=${format}`;
      if (chance(r, 0.35)) query = mutateQuery(r, query, INGEST_PARAMS);
      const contentType = chance(r, 0.1) ? pick(r, ODD_CONTENT_TYPES) : INGEST_CONTENT_TYPE[format]!;
      const headers: Record<string, string> = { ...tenantHeader(r) };
      if (contentType !== '') headers['content-type'] = contentType;
      if (chance(r, 0.04)) headers['content-encoding'] = pick(r, ODD_ENCODINGS);
      return { method: 'POST', url: `${pick(r, ['/ingest', '/pyroscope/ingest'])}?${query}`, headers, body };
    },
  };
}

export const INGEST_FORMATS = ['pprof', 'folded', 'lines', 'trie', 'tree', 'speedscope', 'multipart'];
export const ingestFamilies: Family[] = INGEST_FORMATS.map(ingestFamily);

const ODD_LABELS: [string, string][] = [
  ['', 'x'],
  ['service_name', ''],
  ['service_name', 'a'.repeat(10_000)],
  ['__name__', ''],
  ['__name__', 'godeltaprof_memory'],
  ['1bad', 'x'],
  ['__profile_type__', 'x:y'],
  ['span_id', 'abc'],
  ['a'.repeat(300), 'x'],
];

/** A PushRequest with odd labels and a damaged (but otherwise real) pprof inside. */
function structuredPush(r: Rng): Uint8Array {
  const labels: Record<string, string> = { __name__: 'process_cpu', service_name: 'fuzz-push' };
  for (let k = int(r, 3); k > 0; k--) {
    const [n, v] = pick(r, ODD_LABELS);
    labels[n] = v;
  }
  if (chance(r, 0.05)) for (let i = 0; i < 200; i++) labels[`l${i}`] = `v${i}`;
  const inner = damage(r, pick(r, corpus().pprof!), false);
  const profiles = Array.from({ length: pick(r, [0, 1, 1, 2]) }, () => maybeEncode(r, inner));
  return pushRequest(Array.from({ length: pick(r, [1, 1, 2]) }, () => ({ labels, profiles })));
}

export const pushFamilies: Family[] = [
  {
    name: 'push-proto',
    generate(r) {
      let body = chance(r, 0.5) ? Buffer.from(structuredPush(r)) : damage(r, corpus().pushProto![0]!, false);
      const headers: Record<string, string> = { 'content-type': 'application/proto', ...tenantHeader(r) };
      if (chance(r, 0.5)) {
        headers['content-encoding'] = 'gzip';
        body = chance(r, 0.9) ? gzipSync(body) : maybeEncode(r, body);
      } else if (chance(r, 0.05)) headers['content-encoding'] = pick(r, ODD_ENCODINGS);
      if (chance(r, 0.05)) headers['content-type'] = pick(r, ODD_CONTENT_TYPES);
      return { method: 'POST', url: PUSH_PATH, headers, body };
    },
  },
  {
    name: 'push-json',
    generate(r) {
      let body = damage(r, corpus().pushJson![0]!, true);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...tenantHeader(r) };
      if (chance(r, 0.2)) {
        headers['content-encoding'] = 'gzip';
        body = maybeEncode(r, gzipSync(body));
      }
      return { method: 'POST', url: PUSH_PATH, headers, body };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Write path: OpenTelemetry profiles (OTLP/HTTP protobuf and JSON, gRPC framing)

const ODD_INDEXES = [-1, 0, 1, 99, 2 ** 31 - 1, -(2 ** 31)];

/** The eBPF picture with a few indexes, values or types made wrong before encoding. */
function structuredOtlp(r: Rng) {
  const req = eBpfPythonRequest(BigInt(FUZZ_NOW_MS) * 1_000_000n);
  const d = req.dictionary!;
  const profiles = req.resourceProfiles[0]!.scopeProfiles[0]!.profiles;
  for (let k = int(r, 4); k > 0; k--) {
    const p = pick(r, profiles);
    const sample = pick(r, p.samples);
    switch (int(r, 10)) {
      case 0:
        sample.stackIndex = pick(r, ODD_INDEXES);
        break;
      case 1:
        sample.attributeIndices.push(pick(r, ODD_INDEXES));
        break;
      case 2:
        sample.linkIndex = pick(r, ODD_INDEXES);
        break;
      case 3:
        sample.values = pick(r, [[], [2n ** 62n], [-5n], [1n, 2n, 3n]]);
        break;
      case 4:
        p.sampleType = chance(r, 0.5) ? undefined : { ...p.sampleType!, typeStrindex: pick(r, ODD_INDEXES) };
        break;
      case 5:
        p.period = pick(r, [0n, -1n, 2n ** 62n]);
        break;
      case 6:
        p.timeUnixNano = pick(r, [0n, 1n, 2n ** 64n - 1n]);
        break;
      case 7:
        pick(r, d.locationTable).mappingIndex = pick(r, ODD_INDEXES);
        break;
      case 8:
        d.stringTable.push('x'.repeat(pick(r, [1, 70_000])));
        pick(r, d.functionTable).nameStrindex = d.stringTable.length - pick(r, [1, 0]);
        break;
      default:
        pick(r, [d.stackTable, d.locationTable, d.functionTable, d.stringTable, d.attributeTable]).length = 1;
    }
  }
  return req;
}

/** The body as a 1.9 sender numbers Sample's fields; damaged bytes that cannot be walked stay as they are. */
function as19(body: Buffer): Buffer {
  try {
    return Buffer.from(renumberSampleFields(body, { 4: 2, 2: 3, 3: 4 }));
  } catch {
    return body;
  }
}

export const otlpFamilies: Family[] = [
  {
    name: 'otlp-proto',
    generate(r) {
      const valid = otlpBinary(eBpfPythonRequest(BigInt(FUZZ_NOW_MS) * 1_000_000n));
      let body = chance(r, 0.5) ? otlpBinary(structuredOtlp(r)) : damage(r, valid, false);
      // As a 1.9 sender numbers Sample's fields (read after renumbering).
      if (chance(r, 0.2)) body = as19(body);
      const headers: Record<string, string> = {
        'content-type': 'application/x-protobuf',
        ...tenantHeader(r),
      };
      if (chance(r, 0.3)) {
        headers['content-encoding'] = 'gzip';
        body = chance(r, 0.9) ? gzipSync(body) : maybeEncode(r, body);
      } else if (chance(r, 0.05)) headers['content-encoding'] = pick(r, ODD_ENCODINGS);
      if (chance(r, 0.05)) headers['content-type'] = pick(r, ODD_CONTENT_TYPES);
      return { method: 'POST', url: OTLP_HTTP_PATH, headers, body };
    },
  },
  {
    name: 'otlp-json',
    generate(r) {
      // Structured damage, or text damage to the valid picture (mutateJson is the costly part).
      let body = chance(r, 0.5)
        ? Buffer.from(otlpJson(structuredOtlp(r)))
        : damage(r, Buffer.from(otlpJson(eBpfPythonRequest(BigInt(FUZZ_NOW_MS) * 1_000_000n))), true);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...tenantHeader(r) };
      if (chance(r, 0.2)) {
        headers['content-encoding'] = 'gzip';
        body = maybeEncode(r, gzipSync(body));
      }
      return { method: 'POST', url: OTLP_HTTP_PATH, headers, body };
    },
  },
  {
    name: 'otlp-grpc',
    generate(r) {
      const valid = otlpBinary(eBpfPythonRequest(BigInt(FUZZ_NOW_MS) * 1_000_000n));
      let message: Buffer = chance(r, 0.5) ? otlpBinary(structuredOtlp(r)) : damage(r, valid, false);
      const headers: Record<string, string> = { 'content-type': 'application/grpc', ...tenantHeader(r) };
      let flag = 0;
      if (chance(r, 0.3)) {
        flag = 1;
        headers['grpc-encoding'] = pick(r, ['gzip', 'gzip', 'gzip', 'identity', 'snappy']);
        message = gzipSync(message);
      }
      let frame: Buffer = Buffer.alloc(5 + message.length);
      frame[0] = flag;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      if (chance(r, 0.2)) frame = damage(r, frame, false);
      return { method: 'POST', url: OTLP_GRPC_PATH, headers, body: frame };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Read path: querier.v1.QuerierService

const SELECTORS = [
  `{service_name="${KNOWN_SERVICE}"}`,
  '{}',
  '{service_name=~".+"}',
  '{service_name=~"fuzz-.*"}',
  '{service_name!~"x|y",env="prod"}',
  // Catastrophic for a backtracking engine; the values written here are short (bounded work), the
  // long-value case is B11's, where a blocked loop cannot take the test runner down with it.
  '{service_name=~"(a+)+$"}',
  '{service_name=~"(x+x+)+y"}',
  '{service_name=~"["}',
  '{service_name=~"\\\\"}',
  '{service_name="x",}',
  '{=}',
  '{',
  '{service_name="\\u0000"}',
  `${CPU}{service_name="${KNOWN_SERVICE}"}`,
  'a'.repeat(10_000),
];
const TYPES = [CPU, 'memory:inuse_space:bytes:space:bytes', '', 'x', 'a:b:c:d:e:f', ':::::'];
const EXTREMES = [0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 8.64e15, 1e19];

function time(r: Rng, base: number): number {
  return chance(r, 0.15) ? pick(r, EXTREMES) : base;
}

interface Select {
  profileTypeID: string;
  labelSelector: string;
  start: number;
  end: number;
  maxNodes?: number;
  format?: number;
  sandwichFunction?: string;
}

/** Function names for SelectSeries' stack selection: the known data's, absent ones, odd ones. */
const STACK_NAMES = ['main', 'serve', 'parse', 'absent', '', 'ünïcode', "it's", 'x'.repeat(70_000)];

function selectOf(r: Rng): Select {
  const s: Select = {
    profileTypeID: chance(r, 0.85) ? CPU : pick(r, TYPES),
    labelSelector: pick(r, SELECTORS),
    start: time(r, FUZZ_NOW_MS - HOUR_MS),
    end: time(r, FUZZ_NOW_MS + HOUR_MS),
  };
  if (chance(r, 0.5)) s.maxNodes = chance(r, 0.7) ? pick(r, [1, 16, 1024]) : pick(r, EXTREMES);
  if (chance(r, 0.3)) s.format = pick(r, [0, 1, 2, 3, 5, 6, 6, 99]);
  if (s.format === 6 && chance(r, 0.8))
    s.sandwichFunction = pick(r, ['main', 'work', '', 'nowhere', 'x'.repeat(5000)]);
  return s;
}

function writeSelect(
  w: ProtoWriter,
  s: Select,
  layout: { start: number; end: number; maxNodes: number; format?: number },
) {
  w.string(1, s.profileTypeID)
    .string(2, s.labelSelector)
    .int64(layout.start, s.start)
    .int64(layout.end, s.end);
  if (s.maxNodes !== undefined) w.int64(layout.maxNodes, s.maxNodes, true);
  if (s.format !== undefined && layout.format !== undefined) w.int64(layout.format, s.format);
  if (s.sandwichFunction !== undefined && layout === STACKTRACES) w.string(12, s.sandwichFunction);
}

const STACKTRACES = { start: 3, end: 4, maxNodes: 5, format: 6 };

interface MethodSpec {
  readonly name: string;
  /** The route; default `${QUERIER}/<name>`. */
  readonly path?: string;
  /** A (mostly) valid request: its protojson object and its binary encoding. */
  request(r: Rng): { json: Record<string, unknown>; binary: Uint8Array };
}

function matchers(r: Rng): string[] {
  return Array.from({ length: pick(r, [0, 1, 1, 2]) }, () => pick(r, SELECTORS));
}

const JSON_INT64 = (v: number) => String(v);

export const QUERY_METHODS: MethodSpec[] = [
  {
    name: 'ProfileTypes',
    request(r) {
      const start = time(r, FUZZ_NOW_MS - HOUR_MS);
      const end = time(r, FUZZ_NOW_MS);
      return {
        json: { start: JSON_INT64(start), end: JSON_INT64(end) },
        binary: new ProtoWriter().int64(1, start).int64(2, end).finish(),
      };
    },
  },
  {
    name: 'LabelNames',
    request(r) {
      const m = matchers(r);
      const start = time(r, FUZZ_NOW_MS - HOUR_MS);
      const end = time(r, FUZZ_NOW_MS + HOUR_MS);
      const w = new ProtoWriter();
      for (const x of m) w.string(1, x);
      return {
        json: { matchers: m, start: JSON_INT64(start), end: JSON_INT64(end) },
        binary: w.int64(2, start).int64(3, end).finish(),
      };
    },
  },
  {
    name: 'LabelValues',
    request(r) {
      const name = pick(r, ['service_name', 'env', '__name__', '', 'a'.repeat(1000)]);
      const m = matchers(r);
      const start = time(r, FUZZ_NOW_MS - HOUR_MS);
      const end = time(r, FUZZ_NOW_MS + HOUR_MS);
      const w = new ProtoWriter().string(1, name);
      for (const x of m) w.string(2, x);
      return {
        json: { name, matchers: m, start: JSON_INT64(start), end: JSON_INT64(end) },
        binary: w.int64(3, start).int64(4, end).finish(),
      };
    },
  },
  {
    name: 'Series',
    request(r) {
      const m = matchers(r);
      const names = chance(r, 0.5) ? ['service_name', '__profile_type__'] : [];
      const start = time(r, FUZZ_NOW_MS - HOUR_MS);
      const end = time(r, FUZZ_NOW_MS + HOUR_MS);
      const w = new ProtoWriter();
      for (const x of m) w.string(1, x);
      for (const x of names) w.string(2, x);
      return {
        json: { matchers: m, labelNames: names, start: JSON_INT64(start), end: JSON_INT64(end) },
        binary: w.int64(3, start).int64(4, end).finish(),
      };
    },
  },
  ...(
    [
      ['SelectMergeStacktraces', STACKTRACES],
      ['SelectMergeProfile', { start: 3, end: 4, maxNodes: 5 }],
    ] as const
  ).map(([name, layout]): MethodSpec => ({
    name,
    request(r) {
      const s = selectOf(r);
      const w = new ProtoWriter();
      writeSelect(w, s, layout);
      // trace_id_selector: field 10 of SelectMergeStacktraces, 8 of SelectMergeProfile.
      const traces = chance(r, 0.2) ? [pick(r, TRACE_IDS)] : [];
      for (const x of traces) w.string(name === 'SelectMergeStacktraces' ? 10 : 8, x);
      return {
        json: { ...s, traceIdSelector: traces, start: JSON_INT64(s.start), end: JSON_INT64(s.end) },
        binary: w.finish(),
      };
    },
  })),
  {
    name: 'SelectMergeSpanProfile',
    request(r) {
      const s = selectOf(r);
      const spans = chance(r, 0.5) ? Array.from({ length: 1 + int(r, 3) }, () => pick(r, SPAN_IDS)) : [];
      const w = new ProtoWriter();
      writeSelect(w, s, { start: 4, end: 5, maxNodes: 6, format: 7 });
      for (const x of spans) w.string(3, x);
      return {
        json: { ...s, spanSelector: spans, start: JSON_INT64(s.start), end: JSON_INT64(s.end) },
        binary: w.finish(),
      };
    },
  },
  {
    name: 'SelectSeries',
    request(r) {
      const s = selectOf(r);
      const step = chance(r, 0.8) ? pick(r, [10, 60, 0.001]) : pick(r, [0, -1, NaN, Infinity, 1e300, 5e-324]);
      const groupBy = chance(r, 0.5) ? ['service_name'] : [];
      const aggregation = chance(r, 0.9) ? int(r, 2) : pick(r, [2, -1, 2 ** 40]);
      const limit = chance(r, 0.8) ? 0 : pick(r, EXTREMES);
      const w = new ProtoWriter()
        .string(1, s.profileTypeID)
        .string(2, s.labelSelector)
        .int64(3, s.start)
        .int64(4, s.end);
      for (const g of groupBy) w.string(5, g);
      const exemplarType = chance(r, 0.8) ? int(r, 4) : pick(r, [4, -1, 2 ** 40]);
      w.double(6, step).int64(7, aggregation).int64(9, limit).int64(10, exemplarType);
      // Stack selection: a call site (stack_trace_selector, 8), a function (100), a rule id (101).
      const callSite = chance(r, 0.3)
        ? Array.from({ length: 1 + int(r, 3) }, () => pick(r, STACK_NAMES))
        : [];
      const functionName = chance(r, 0.3) ? pick(r, STACK_NAMES) : '';
      const ruleId = chance(r, 0.1) ? pick(r, ['nosuchrule', 'x1', 'a'.repeat(100), ' ']) : '';
      if (callSite.length > 0)
        w.message(8, (sts) => {
          for (const name of callSite) sts.message(1, (l) => l.string(1, name));
        });
      w.string(100, functionName).string(101, ruleId);
      return {
        json: {
          profileTypeID: s.profileTypeID,
          labelSelector: s.labelSelector,
          start: JSON_INT64(s.start),
          end: JSON_INT64(s.end),
          groupBy,
          // NaN/Infinity cannot be JSON numbers: protojson spells them as strings.
          step: Number.isFinite(step) ? step : String(step),
          aggregation,
          limit: JSON_INT64(limit),
          exemplarType,
          ...(callSite.length > 0
            ? { stackTraceSelector: { callSite: callSite.map((name) => ({ name })) } }
            : {}),
          ...(functionName !== '' ? { functionName } : {}),
          ...(ruleId !== '' ? { ruleId } : {}),
        },
        binary: w.finish(),
      };
    },
  },
  {
    name: 'Diff',
    request(r) {
      const left = selectOf(r);
      const right = chance(r, 0.8) ? { ...left } : selectOf(r);
      const w = new ProtoWriter()
        .message(1, (m) => writeSelect(m, left, STACKTRACES))
        .message(2, (m) => writeSelect(m, right, STACKTRACES));
      const j = (s: Select) => ({ ...s, start: JSON_INT64(s.start), end: JSON_INT64(s.end) });
      const json: Record<string, unknown> = { left: j(left), right: j(right) };
      // The Drilldown app's function table: format and row limit on the outer message (fields 3, 4).
      if (chance(r, 0.3)) {
        json.format = pick(r, ['PROFILE_FORMAT_FUNCTIONS', 'PROFILE_FORMAT_FLAMEGRAPH', 5]);
        json.maxNodes = pick(r, [1, 16, ...EXTREMES]);
        w.int64(3, json.format === 'PROFILE_FORMAT_FLAMEGRAPH' ? 1 : 5).int64(
          4,
          json.maxNodes as number,
          true,
        );
      }
      if (chance(r, 0.1)) delete json[pick(r, ['left', 'right'])];
      return { json, binary: w.finish() };
    },
  },
  {
    name: 'GetProfileStats',
    request() {
      return { json: {}, binary: new Uint8Array(0) };
    },
  },
];

function queryFamily(spec: MethodSpec, encoding: 'json' | 'proto'): Family {
  return {
    name: `query-${spec.name}-${encoding}`,
    generate(r): FuzzCase {
      const req = spec.request(r);
      let body =
        encoding === 'json'
          ? damage(r, Buffer.from(printJson(req.json)), true)
          : damage(r, Buffer.from(req.binary), false);
      const headers: Record<string, string> = {
        'content-type': encoding === 'json' ? 'application/json' : 'application/proto',
        ...tenantHeader(r),
      };
      if (chance(r, 0.1)) {
        headers['content-encoding'] = 'gzip';
        body = maybeEncode(r, gzipSync(body));
      } else if (chance(r, 0.03)) headers['content-encoding'] = pick(r, ODD_ENCODINGS);
      if (chance(r, 0.05)) headers['content-type'] = pick(r, ODD_CONTENT_TYPES);
      const method = chance(r, 0.03) ? pick(r, ['GET', 'PUT', 'DELETE', 'PATCH']) : 'POST';
      const url = spec.path ?? `${QUERIER}/${spec.name}`;
      return { method, url, headers, body: method === 'GET' ? undefined : body };
    },
  };
}

// Profiles Drilldown services (query/drilldown.ts): settings, ad hoc profiles, feature flags.

const ADHOC_FILES = [
  Buffer.from('main;work 30\nmain;idle 10\n'),
  Buffer.from('{"$schema":"https://www.speedscope.app/file-format-schema.json"}'),
  Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
  Buffer.alloc(0),
];

function adhocFile(r: Rng): string {
  const file = chance(r, 0.5) ? pick(r, allCorpus()) : pick(r, ADHOC_FILES);
  const text = (chance(r, 0.3) ? mutateBytes(r, file, allCorpus()) : file).toString('base64');
  return chance(r, 0.1) ? text.slice(0, int(r, text.length + 1)) + pick(r, ['!', '=', ' ', '\u0000']) : text;
}

const ADHOC_IDS = ['', '0000000000a-0011223344556677', '../x', 'a'.repeat(65), 'nope', '\u0000'];

const DRILLDOWN_METHODS: MethodSpec[] = [
  {
    name: 'SelectHeatmap',
    path: `${QUERIER}/SelectHeatmap`,
    request(r) {
      const s = selectOf(r);
      const step = chance(r, 0.9) ? pick(r, [15, 60, 600]) : pick(r, [0, -1, 1e-9, 1e300]);
      const groupBy = chance(r, 0.5) ? ['service_name'] : [];
      const queryType = pick(r, [0, 1, 2, 2, 7]);
      const exemplarType = pick(r, [0, 1, 2, 3, 9]);
      const w = new ProtoWriter()
        .string(1, s.profileTypeID)
        .string(2, s.labelSelector)
        .int64(3, s.start)
        .int64(4, s.end)
        .double(5, step);
      for (const g of groupBy) w.string(6, g);
      w.int64(7, queryType).int64(8, exemplarType);
      if (chance(r, 0.3)) w.int64(9, pick(r, [1, 0, -1]), true);
      const json = {
        ...s,
        start: JSON_INT64(s.start),
        end: JSON_INT64(s.end),
        step,
        groupBy,
        queryType,
        exemplarType,
      };
      return { json, binary: w.finish() };
    },
  },
  {
    name: 'AnalyzeQuery',
    path: `${QUERIER}/AnalyzeQuery`,
    request(r) {
      const query = pick(r, [...RENDER_QUERIES, '', 'x{']);
      const start = time(r, FUZZ_NOW_MS - HOUR_MS);
      const end = time(r, FUZZ_NOW_MS + HOUR_MS);
      return {
        json: { start: JSON_INT64(start), end: JSON_INT64(end), query },
        binary: new ProtoWriter().int64(2, start).int64(3, end).string(4, query).finish(),
      };
    },
  },
  {
    name: 'Settings/Get',
    path: '/settings.v1.SettingsService/Get',
    request: () => ({ json: {}, binary: new Uint8Array(0) }),
  },
  {
    name: 'Settings/Set',
    path: '/settings.v1.SettingsService/Set',
    request(r) {
      const name = pick(r, ['pluginSettings', '', 'x'.repeat(300), 'a\u0000b']);
      const value = pick(r, ['{"maxNodes":16384}', '', 'v'.repeat(70_000)]);
      const modifiedAt = pick(r, [0, FUZZ_NOW_MS, -1, 2 ** 53, 1]);
      return {
        json: { setting: { name, value, modifiedAt: String(modifiedAt) } },
        binary: new ProtoWriter()
          .message(1, (w) => w.string(1, name).string(2, value).int64(3, modifiedAt))
          .finish(),
      };
    },
  },
  {
    name: 'Settings/Delete',
    path: '/settings.v1.SettingsService/Delete',
    request(r) {
      const name = pick(r, ['pluginSettings', '', 'zzz']);
      return { json: { name }, binary: new ProtoWriter().string(1, name).finish() };
    },
  },
  {
    name: 'FeatureFlags/GetFeatureFlags',
    path: '/capabilities.v1.FeatureFlagsService/GetFeatureFlags',
    request: () => ({ json: {}, binary: new Uint8Array(0) }),
  },
  {
    name: 'AdHoc/Upload',
    path: '/adhocprofiles.v1.AdHocProfileService/Upload',
    request(r) {
      const name = pick(r, ['cpu.pb.gz', '', 'x'.repeat(5000)]);
      const profile = adhocFile(r);
      const maxNodes = chance(r, 0.3) ? pick(r, [1, 16, ...EXTREMES]) : undefined;
      const w = new ProtoWriter().string(1, name).string(2, profile);
      if (maxNodes !== undefined) w.int64(3, maxNodes, true);
      return { json: { name, profile, ...(maxNodes === undefined ? {} : { maxNodes }) }, binary: w.finish() };
    },
  },
  {
    name: 'AdHoc/Get',
    path: '/adhocprofiles.v1.AdHocProfileService/Get',
    request(r) {
      const id = pick(r, ADHOC_IDS);
      const profileType = pick(r, ['', 'cpu', 'alloc_space']);
      return {
        json: { id, profileType },
        binary: new ProtoWriter().string(1, id).string(2, profileType).finish(),
      };
    },
  },
  {
    name: 'AdHoc/List',
    path: '/adhocprofiles.v1.AdHocProfileService/List',
    request: () => ({ json: {}, binary: new Uint8Array(0) }),
  },
  {
    name: 'AdHoc/Diff',
    path: '/adhocprofiles.v1.AdHocProfileService/Diff',
    request(r) {
      const leftId = pick(r, ADHOC_IDS);
      const rightId = pick(r, ADHOC_IDS);
      return {
        json: { leftId, rightId },
        binary: new ProtoWriter().string(1, leftId).string(2, rightId).finish(),
      };
    },
  },
];

export const drilldownFamilies: Family[] = DRILLDOWN_METHODS.flatMap((m) => [
  queryFamily(m, 'proto'),
  queryFamily(m, 'json'),
]);

/** hotpath.v1.ChangesService (query/changes.ts): baselines, labels and thresholds, valid and not. */
export const CHANGES_METHODS: MethodSpec[] = [
  {
    name: 'Changes/WhatChanged',
    path: `${CHANGES_SERVICE}/WhatChanged`,
    request(r) {
      const s = selectOf(r);
      const baseline = pick(r, ['', 'previous', '1h', '1d', '1w', '0h', '999999w', 'x', '-1h']);
      const labels = chance(r, 0.5) ? ['service_name', 'env', '__name__'].slice(0, int(r, 4)) : [];
      const explicit = chance(r, 0.2)
        ? { baselineStart: time(r, s.start - HOUR_MS), baselineEnd: time(r, s.start) }
        : {};
      const minZ = chance(r, 0.8) ? 0 : pick(r, [1, -1, 1e300, NaN]);
      const w = new ProtoWriter()
        .string(1, s.profileTypeID)
        .string(2, s.labelSelector)
        .int64(3, s.start)
        .int64(4, s.end);
      w.string(5, baseline);
      if (explicit.baselineStart !== undefined)
        w.int64(6, explicit.baselineStart).int64(7, explicit.baselineEnd!);
      for (const l of labels) w.string(8, l);
      w.double(9, minZ);
      return {
        json: {
          profileTypeId: s.profileTypeID,
          labelSelector: s.labelSelector,
          start: JSON_INT64(s.start),
          end: JSON_INT64(s.end),
          baseline,
          labels,
          ...(explicit.baselineStart !== undefined
            ? {
                baselineStart: JSON_INT64(explicit.baselineStart),
                baselineEnd: JSON_INT64(explicit.baselineEnd!),
              }
            : {}),
          minZ: Number.isFinite(minZ) ? minZ : String(minZ),
        },
        binary: w.finish(),
      };
    },
  },
];

export const changesFamilies: Family[] = CHANGES_METHODS.flatMap((m) => [
  queryFamily(m, 'proto'),
  queryFamily(m, 'json'),
]);

export const queryFamilies: Family[] = QUERY_METHODS.flatMap((m) => [
  queryFamily(m, 'proto'),
  queryFamily(m, 'json'),
]);

// ---------------------------------------------------------------------------------------------
// Legacy HTTP read routes and every other registered route

/** Span and trace ids for span selectors: valid, of a known span (known.ts), and malformed. */
const SPAN_IDS = [
  '0123456789abcdef',
  KNOWN_SPAN_ID,
  'ABCDEF0123456789',
  'abc',
  'zzzzzzzzzzzzzzzz',
  '',
  'a'.repeat(1000),
];
const TRACE_IDS = ['0af7651916cd43dd8448eb211c80319c', '0af7', 'x'.repeat(32), ''];

const RENDER_PARAMS = [
  'query',
  'profileType',
  'limit',
  'from',
  'until',
  'maxNodes',
  'max-nodes',
  'format',
  'aggregation',
  'groupBy',
  'name',
  'label',
  'leftQuery',
  'rightQuery',
  'leftFrom',
  'leftUntil',
  'rightFrom',
  'rightUntil',
];

const RENDER_QUERIES = [
  `${CPU}{service_name="${KNOWN_SERVICE}"}`,
  `${KNOWN_SERVICE}.cpu{}`,
  `${KNOWN_SERVICE}.cpu`,
  `${KNOWN_SERVICE}.alloc_space{env="x"}`,
  ...SELECTORS,
];

function renderQuery(r: Rng, route: string): string {
  const from = pick(r, ['now-1h', String(FUZZ_NOW_MS / 1000 - 3600), String(FUZZ_NOW_MS - HOUR_MS)]);
  const until = pick(r, ['now', String(FUZZ_NOW_MS / 1000 + 3600)]);
  const q = (s: string) => encodeURIComponent(s);
  switch (route) {
    case '/pyroscope/render':
    case '/render': {
      let s = `query=${q(pick(r, RENDER_QUERIES))}&from=${from}&until=${until}`;
      if (chance(r, 0.3)) s += `&format=${pick(r, ['json', 'dot', 'x'])}`;
      if (chance(r, 0.3)) s += `&maxNodes=${pick(r, ['16', '1024', '-1', '0', '1e400'])}`;
      if (chance(r, 0.2)) s += `&groupBy=service_name&aggregation=${pick(r, ['sum', 'avg'])}`;
      return s;
    }
    case '/pyroscope/render-diff':
    case '/render-diff': {
      const lq = pick(r, RENDER_QUERIES);
      const rq = chance(r, 0.8) ? lq : pick(r, RENDER_QUERIES);
      return `leftQuery=${q(lq)}&rightQuery=${q(rq)}&leftFrom=${from}&leftUntil=${until}&rightFrom=${from}&rightUntil=${until}`;
    }
    case '/pyroscope/label-values':
    case '/label-values':
      return `label=${pick(r, ['service_name', '__name__', 'env', ''])}&query=${q(pick(r, SELECTORS))}&from=${from}&until=${until}`;
    case '/labels':
    case '/api/apps':
      return `query=${q(pick(r, SELECTORS))}&from=${from}&until=${until}`;
    case '/api/spans': {
      const limit = pick(r, ['', '&limit=10', '&limit=1000', '&limit=1001', '&limit=0', '&limit=1e3']);
      const type = chance(r, 0.8) ? `&profileType=${CPU}` : '';
      return `query=${q(pick(r, RENDER_QUERIES))}${type}&from=${from}&until=${until}${limit}`;
    }
    default:
      return '';
  }
}

export const READ_ROUTES = [
  '/pyroscope/render',
  '/render',
  '/pyroscope/render-diff',
  '/render-diff',
  '/pyroscope/label-values',
  '/label-values',
  '/labels',
  '/api/apps',
  '/api/spans',
];

/** Every route buildServer registers besides the ones above (compared with printRoutes by the suite). */
export const OTHER_ROUTES = [
  '/',
  '/ready',
  '/metrics',
  '/ingest',
  '/pyroscope/ingest',
  PUSH_PATH,
  OTLP_HTTP_PATH,
  OTLP_GRPC_PATH,
  ...QUERY_METHODS.map((m) => `${QUERIER}/${m.name}`),
  ...DRILLDOWN_METHODS.map((m) => m.path!),
  ...CHANGES_METHODS.map((m) => m.path!),
  KEYS_PATH,
  `${KEYS_PATH}/:id`,
  ...RULES_METHODS.map((m) => `${RULES_SERVICE}/${m}`),
];

const STRANGE_PATHS = [
  '/%',
  '/%zz',
  '/..%2f..%2fetc%2fpasswd',
  '/index.html',
  '/assets/x.js',
  '/nope',
  '/a'.repeat(2000),
  '/render/',
  '//render',
  '/ready?x',
];

export const httpFamilies: Family[] = [
  {
    name: 'http-read',
    generate(r) {
      const route = pick(r, READ_ROUTES);
      let query = renderQuery(r, route);
      if (chance(r, 0.6)) query = mutateQuery(r, query, RENDER_PARAMS);
      return {
        method: chance(r, 0.95) ? 'GET' : pick(r, ['POST', 'PUT', 'DELETE', 'PATCH']),
        url: `${route}?${query}`,
        headers: tenantHeader(r),
      };
    },
  },
  {
    name: 'http-any',
    generate(r) {
      const path = (
        chance(r, 0.7) ? pick(r, [...READ_ROUTES, ...OTHER_ROUTES]) : pick(r, STRANGE_PATHS)
      ).replace(':id', pick(r, ['1', 'abc', '-1', '%00', 'a'.repeat(500)]));
      const method = pick(r, ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      const query = chance(r, 0.5) ? `?${mutateQuery(r, '', [...RENDER_PARAMS, ...INGEST_PARAMS])}` : '';
      const headers: Record<string, string> = tenantHeader(r);
      let body: Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && chance(r, 0.7)) {
        body = maybeEncode(r, damage(r, pick(r, allCorpus()), false));
        headers['content-type'] = pick(
          r,
          ODD_CONTENT_TYPES.filter((t) => t !== ''),
        );
      }
      return { method, url: `${path}${query}`, headers, body };
    },
  },
];

/** The key management API: create (JSON body), list, revoke. */
const KEY_REQUEST = Buffer.from(JSON.stringify({ tenant: 'fuzz-tenant', scope: 'read', name: 'fuzz key' }));

export const keysFamily: Family = {
  name: 'http-keys',
  generate(r) {
    const op = int(r, 3);
    if (op === 0)
      return {
        method: 'POST',
        url: KEYS_PATH,
        headers: { 'content-type': 'application/json', ...tenantHeader(r) },
        body: maybeEncode(r, damage(r, KEY_REQUEST, true)),
      };
    if (op === 1)
      return {
        method: 'GET',
        url: `${KEYS_PATH}?${mutateQuery(r, '', ['tenant', 'scope', 'limit'])}`,
        headers: tenantHeader(r),
      };
    return {
      method: 'DELETE',
      url: `${KEYS_PATH}/${encodeURIComponent(pick(r, ['1', 'abc', '', '-1', '\u0000', 'a'.repeat(300)]))}`,
      headers: tenantHeader(r),
    };
  },
};
httpFamilies.push(keysFamily);

export const allFamilies: Family[] = [
  ...ingestFamilies,
  ...pushFamilies,
  ...otlpFamilies,
  ...queryFamilies,
  ...drilldownFamilies,
  ...changesFamilies,
  ...httpFamilies,
];

export function familyNamed(name: string): Family {
  const f = allFamilies.find((x) => x.name === name);
  if (!f) throw new Error(`no fuzz family '${name}'; known: ${allFamilies.map((x) => x.name).join(', ')}`);
  return f;
}
