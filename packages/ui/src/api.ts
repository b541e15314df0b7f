// Client of the Hotpath query APIs: Connect querier JSON (protojson: int64 as strings, ms times) and
// the legacy /pyroscope/render(-diff) endpoints. Server errors surface as ApiError with the server's text.
import { ByteWriter, gzipBytes } from '@hotpath/core';
import { authHeaders, reportUnauthenticated } from './auth.ts';
import { decodeFlamebearer, decodeFlamebearerDiff, type FlameTree, type Flamebearer } from './flame/tree.ts';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  if (res.status === 401) reportUnauthenticated();
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: string; message?: string; error?: string };
    return new ApiError(body.message ?? body.error ?? text, res.status, body.code ?? String(res.status));
  } catch {
    return new ApiError(text || `${res.status} ${res.statusText}`, res.status, String(res.status));
  }
}

/** POSTs to a QuerierService method; a non-2xx answer throws the server's error. */
async function postQuerier(
  method: string,
  contentType: string,
  body: BodyInit,
  signal?: AbortSignal,
): Promise<Response> {
  const res = await fetch(`/querier.v1.QuerierService/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...authHeaders() },
    body,
    signal: signal ?? null,
  });
  if (!res.ok) throw await failure(res);
  return res;
}

function connect<T>(method: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return connectJson<T>(`/querier.v1.QuerierService/${method}`, body, signal);
}

/** POSTs protojson to any Connect method (`/<package>.<Service>/<Method>`); a non-2xx answer throws the server's error. */
export async function connectJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/**
 * The complete merged profile of a selection as gzip pprof: SelectMergeProfile in binary Connect (as
 * Grafana's Profiles Drilldown exports), so nothing is truncated to the flame graph's node budget and
 * frames keep their files. Gzipped here, as the server answers the bare Profile message.
 */
export async function mergedPprofGzip(
  p: {
    readonly profileType: string;
    readonly selector: string;
    readonly fromMs: number;
    readonly untilMs: number;
  },
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const w = new ByteWriter(256);
  w.stringField(1, p.profileType);
  w.stringField(2, p.selector);
  w.varintField(3, Math.round(p.fromMs));
  w.varintField(4, Math.round(p.untilMs));
  const res = await postQuerier('SelectMergeProfile', 'application/proto', w.finish() as BlobPart, signal);
  return gzipBytes(new Uint8Array(await res.arrayBuffer()));
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: authHeaders(), signal: signal ?? null });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

interface LabelPairJson {
  name: string;
  value: string;
}

/** service_name → its profile type ids, from Series(labelNames=[__profile_type__, service_name]). */
export async function listServices(
  startMs: number,
  endMs: number,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const r = await connect<{ labelsSet?: { labels?: LabelPairJson[] }[] }>(
    'Series',
    { matchers: [], labelNames: ['__profile_type__', 'service_name'], start: startMs, end: endMs },
    signal,
  );
  const out = new Map<string, Set<string>>();
  for (const ls of r.labelsSet ?? []) {
    const labels = ls.labels ?? [];
    const svc = labels.find((l) => l.name === 'service_name')?.value;
    const type = labels.find((l) => l.name === '__profile_type__')?.value;
    if (svc === undefined || type === undefined) continue;
    if (!out.has(svc)) out.set(svc, new Set());
    out.get(svc)!.add(type);
  }
  return new Map(
    [...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, [...v].sort(compareTypes)]),
  );
}

/** CPU first, then memory, then the rest alphabetically (as Pyroscope's UI pins them). */
function compareTypes(a: string, b: string): number {
  const rank = (t: string): number =>
    t.startsWith('process_cpu:cpu') ? 0 : t.startsWith('process_cpu') ? 1 : t.startsWith('memory') ? 2 : 3;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export async function labelNames(
  selector: string,
  startMs: number,
  endMs: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const r = await connect<{ names?: string[] }>(
    'LabelNames',
    { matchers: [selector], start: startMs, end: endMs },
    signal,
  );
  return (r.names ?? []).filter((n) => !n.startsWith('__') && n !== 'service_name').sort();
}

export async function labelValues(
  name: string,
  selector: string,
  startMs: number,
  endMs: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const r = await connect<{ names?: string[] }>(
    'LabelValues',
    { name, matchers: [selector], start: startMs, end: endMs },
    signal,
  );
  return (r.names ?? []).sort();
}

export interface ProfileStats {
  readonly dataIngested: boolean;
}

export async function profileStats(signal?: AbortSignal): Promise<ProfileStats> {
  const r = await connect<{ dataIngested?: boolean }>('GetProfileStats', {}, signal);
  return { dataIngested: r.dataIngested === true };
}

export interface Timeline {
  /** Unix seconds of the first bucket. */
  readonly startTime: number;
  readonly samples: readonly number[];
  /** Bucket width in seconds. */
  readonly durationDelta: number;
}

export interface RenderMetadata {
  readonly units: string;
  readonly name: string;
  readonly sampleRate: number;
}

export interface RenderResult {
  readonly tree: FlameTree;
  readonly flamebearer: Flamebearer;
  readonly metadata: RenderMetadata;
  readonly timeline: Timeline | null;
  readonly groups: Readonly<Record<string, Timeline>> | null;
}

interface RenderJson {
  flamebearer: Flamebearer;
  metadata?: Partial<RenderMetadata>;
  timeline?: Timeline | null;
  groups?: Record<string, Timeline> | null;
  leftTicks?: number;
  rightTicks?: number;
}

export interface RenderParams {
  readonly profileType: string;
  readonly selector: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly maxNodes: number;
  readonly groupBy?: string;
}

export function renderUrl(p: RenderParams): string {
  const q = new URLSearchParams({
    query: `${p.profileType}${p.selector}`,
    from: String(Math.round(p.fromMs)),
    until: String(Math.round(p.untilMs)),
    'max-nodes': String(p.maxNodes),
    aggregation: 'sum',
    format: 'json',
  });
  if (p.groupBy) q.set('groupBy', p.groupBy);
  return `/pyroscope/render?${q}`;
}

function metadataOf(j: RenderJson): RenderMetadata {
  return {
    units: j.metadata?.units ?? '',
    name: j.metadata?.name ?? '',
    sampleRate: j.metadata?.sampleRate ?? 0,
  };
}

export async function render(p: RenderParams, signal?: AbortSignal): Promise<RenderResult> {
  const j = await getJson<RenderJson>(renderUrl(p), signal);
  return {
    tree: decodeFlamebearer(j.flamebearer),
    flamebearer: j.flamebearer,
    metadata: metadataOf(j),
    timeline: j.timeline ?? null,
    groups: j.groups ?? null,
  };
}

export interface DiffParams {
  readonly profileType: string;
  readonly leftSelector: string;
  readonly leftFromMs: number;
  readonly leftUntilMs: number;
  readonly rightSelector: string;
  readonly rightFromMs: number;
  readonly rightUntilMs: number;
  readonly maxNodes: number;
}

export async function renderDiff(p: DiffParams, signal?: AbortSignal): Promise<RenderResult> {
  const q = new URLSearchParams({
    leftQuery: `${p.profileType}${p.leftSelector}`,
    leftFrom: String(Math.round(p.leftFromMs)),
    leftUntil: String(Math.round(p.leftUntilMs)),
    rightQuery: `${p.profileType}${p.rightSelector}`,
    rightFrom: String(Math.round(p.rightFromMs)),
    rightUntil: String(Math.round(p.rightUntilMs)),
    'max-nodes': String(p.maxNodes),
  });
  const j = await getJson<RenderJson>(`/pyroscope/render-diff?${q}`, signal);
  return {
    tree: decodeFlamebearerDiff(j.flamebearer, j.leftTicks ?? 0, j.rightTicks ?? 0),
    flamebearer: j.flamebearer,
    metadata: metadataOf(j),
    timeline: null,
    groups: null,
  };
}

/** One span of GET /api/spans: a request's root span and what its samples add up to. */
export interface SpanSummary {
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  readonly spanName: string;
  /** 32 hex digits, or '' when the client sent none. */
  readonly traceId: string;
  /** Sum of the span's samples, in the profile type's unit (`unit` of the answer). */
  readonly value: number;
  readonly samples: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

/** The slowest spans of a selection (largest value first), at most `limit`. */
export async function listSpans(
  p: {
    readonly profileType: string;
    readonly selector: string;
    readonly fromMs: number;
    readonly untilMs: number;
    readonly limit: number;
  },
  signal?: AbortSignal,
): Promise<{ unit: string; spans: SpanSummary[] }> {
  const q = new URLSearchParams({
    query: p.selector,
    profileType: p.profileType,
    from: String(Math.round(p.fromMs)),
    until: String(Math.round(p.untilMs)),
    limit: String(p.limit),
  });
  const j = await getJson<{ unit?: string; spans?: Partial<Record<keyof SpanSummary, string | number>>[] }>(
    `/api/spans?${q}`,
    signal,
  );
  const spans = (j.spans ?? []).map((s) => ({
    spanId: String(s.spanId ?? ''),
    spanName: String(s.spanName ?? ''),
    traceId: String(s.traceId ?? ''),
    value: Number(s.value ?? 0),
    samples: Number(s.samples ?? 0),
    firstMs: Number(s.firstMs ?? 0),
    lastMs: Number(s.lastMs ?? 0),
  }));
  return { unit: j.unit ?? '', spans };
}

/** Connect JSON FlameGraph (protojson: int64 as strings). */
interface FlameGraphJson {
  names?: string[];
  levels?: { values?: (string | number)[] }[];
  total?: string | number;
  maxSelf?: string | number;
}

/** Connect's FlameGraph as flamebearer: the same delta-encoded 4-tuples, int64 strings made numbers. */
export function flamebearerOfFlameGraph(fg: FlameGraphJson | undefined): Flamebearer {
  return {
    names: fg?.names ?? [],
    levels: (fg?.levels ?? []).map((l) => (l.values ?? []).map(Number)),
    numTicks: Number(fg?.total ?? 0),
    maxSelf: Number(fg?.maxSelf ?? 0),
  };
}

/**
 * The flame graph of exactly these spans: span ids (16 hex) through SelectMergeSpanProfile, trace ids
 * (32 hex) through SelectMergeStacktraces' traceIdSelector.
 */
export async function spanFlameGraph(
  p: {
    readonly profileType: string;
    readonly selector: string;
    readonly fromMs: number;
    readonly untilMs: number;
    readonly maxNodes: number;
    readonly spanIds: readonly string[];
    readonly traceIds: readonly string[];
  },
  signal?: AbortSignal,
): Promise<FlameTree> {
  const common = {
    profileTypeID: p.profileType,
    labelSelector: p.selector,
    start: Math.round(p.fromMs),
    end: Math.round(p.untilMs),
    maxNodes: p.maxNodes,
  };
  const r =
    p.traceIds.length > 0
      ? await connect<{ flamegraph?: FlameGraphJson }>(
          'SelectMergeStacktraces',
          { ...common, traceIdSelector: p.traceIds, spanSelector: p.spanIds },
          signal,
        )
      : await connect<{ flamegraph?: FlameGraphJson }>(
          'SelectMergeSpanProfile',
          { ...common, spanSelector: p.spanIds },
          signal,
        );
  return decodeFlamebearer(flamebearerOfFlameGraph(r.flamegraph));
}

/** A timeline point's exemplar: the largest span of its step (SelectSeries' span exemplars). */
export interface SpanExemplar {
  /** Start of the step (ms), where the point is drawn. */
  readonly stepMs: number;
  /** The step's value (all of the selection's profiles in it). */
  readonly pointValue: number;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  readonly spanName: string;
  /** The span's own value, in the profile type's unit. */
  readonly value: number;
}

interface SeriesJson {
  series?: {
    points?: {
      value?: number;
      timestamp?: string | number;
      exemplars?: {
        spanId?: string;
        value?: string | number;
        labels?: { name: string; value: string }[];
      }[];
    }[];
  }[];
}

/**
 * The largest span of each step of a selection's timeline: one SelectSeries with
 * `EXEMPLAR_TYPE_SPAN`; steps without spans have none, so a selection without spans answers [].
 */
export async function spanExemplars(
  p: {
    readonly profileType: string;
    readonly selector: string;
    readonly fromMs: number;
    readonly untilMs: number;
    readonly stepS: number;
  },
  signal?: AbortSignal,
): Promise<SpanExemplar[]> {
  const r = await connect<SeriesJson>(
    'SelectSeries',
    {
      profileTypeID: p.profileType,
      labelSelector: p.selector,
      start: Math.round(p.fromMs),
      end: Math.round(p.untilMs),
      step: p.stepS,
      exemplarType: 'EXEMPLAR_TYPE_SPAN',
    },
    signal,
  );
  const out: SpanExemplar[] = [];
  for (const s of r.series ?? [])
    for (const pt of s.points ?? [])
      for (const e of pt.exemplars ?? [])
        if (e.spanId)
          out.push({
            stepMs: Number(pt.timestamp ?? 0),
            pointValue: Number(pt.value ?? 0),
            spanId: e.spanId,
            spanName: e.labels?.find((l) => l.name === 'span_name')?.value ?? '',
            value: Number(e.value ?? 0),
          });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ad hoc profiles (adhocprofiles.v1.AdHocProfileService): uploaded files kept per tenant, by id.

const ADHOC = '/adhocprofiles.v1.AdHocProfileService';

/** One profile type of a stored upload, as the server renders it. */
export interface AdhocProfile {
  readonly id: string;
  readonly name: string;
  readonly uploadedAtMs: number;
  readonly profileType: string;
  readonly profileTypes: readonly string[];
  readonly tree: FlameTree;
  /** Flamebearer metadata: `name` is the sample type, `units` e.g. samples, bytes, objects. */
  readonly units: string;
  readonly sampleType: string;
}

interface AdhocJson {
  id: string;
  name?: string;
  uploadedAt?: string;
  profileType?: string;
  profileTypes?: string[];
  flamebearerProfile: string;
}

function adhoc<T>(method: string, body: unknown): Promise<T> {
  return connectJson<T>(`${ADHOC}/${method}`, body);
}

function adhocProfileOf(j: AdhocJson): AdhocProfile {
  const fb = JSON.parse(j.flamebearerProfile) as {
    flamebearer: Flamebearer;
    metadata?: { name?: string; units?: string };
  };
  return {
    id: j.id,
    name: j.name ?? '',
    uploadedAtMs: Number(j.uploadedAt ?? 0),
    profileType: j.profileType ?? '',
    profileTypes: j.profileTypes ?? [],
    tree: decodeFlamebearer(fb.flamebearer),
    units: fb.metadata?.units ?? '',
    sampleType: fb.metadata?.name ?? '',
  };
}

/** Stores a file (any format the server reads) and returns its first profile type, rendered. */
export async function uploadAdhoc(
  fileName: string,
  bytes: Uint8Array,
  maxNodes: number,
): Promise<AdhocProfile> {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return adhocProfileOf(
    await adhoc<AdhocJson>('Upload', { name: fileName, profile: btoa(binary), maxNodes }),
  );
}

export async function getAdhoc(id: string, profileType: string, maxNodes: number): Promise<AdhocProfile> {
  return adhocProfileOf(
    await adhoc<AdhocJson>('Get', { id, maxNodes, ...(profileType ? { profileType } : {}) }),
  );
}

/** The tenant's stored uploads, newest first. */
export async function listAdhoc(): Promise<{ id: string; name: string; uploadedAtMs: number }[]> {
  const j = await adhoc<{ profiles?: { id: string; name?: string; uploadedAt?: string }[] }>('List', {});
  return (j.profiles ?? []).map((p) => ({
    id: p.id,
    name: p.name ?? '',
    uploadedAtMs: Number(p.uploadedAt ?? 0),
  }));
}

/** One side of a "what changed?" finding: the selector and range to compare or diff. */
export interface ChangeSide {
  readonly labelSelector: string;
  readonly start: string;
  readonly end: string;
}

/** hotpath.v1.FunctionChange: one function's cost in the baseline (base) and the selection (head). */
export interface FunctionChangeJson {
  readonly name: string;
  readonly baseTotalShare?: number;
  readonly headTotalShare?: number;
  readonly totalDelta?: number;
  readonly headSamples?: number;
  readonly baseSamples?: number;
}

/** hotpath.v1.ChangesService/WhatChanged's protojson answer (defaults omitted, int64 as strings). */
export interface WhatChangedAnswer {
  readonly baseline?: { start: string; end: string };
  /** The baseline holds no data: nothing was compared with it. */
  readonly baselineEmpty?: boolean;
  /** Why part or all of a side was left out of the comparison (absent when both were whole). */
  readonly coverageWarning?: string;
  readonly minZ: number;
  readonly minShareDelta: number;
  readonly minSamples: number;
  readonly findings?: readonly {
    kind: string;
    function: string;
    label?: string;
    value?: string;
    score?: number;
    text: string;
    left: ChangeSide;
    right: ChangeSide;
  }[];
  readonly grew?: readonly FunctionChangeJson[];
  readonly shrank?: readonly FunctionChangeJson[];
  readonly unit?: string;
  readonly outliers?: readonly {
    label: string;
    value: string;
    function: string;
    valueShare?: number;
    othersShare?: number;
    samples?: number;
  }[];
  readonly periods?: readonly {
    label: string;
    value: string;
    function: string;
    slowShare?: number;
    fastShare?: number;
  }[];
  readonly totalChange?: { baseValue?: number; headValue?: number; ratio?: number };
  readonly labels?: readonly string[];
}

/** "What changed?" for a selection against a baseline ('' none, previous, 1d, 1w). */
export function whatChanged(
  p: { profileType: string; selector: string; fromMs: number; untilMs: number; baseline: string },
  signal?: AbortSignal,
): Promise<WhatChangedAnswer> {
  return connectJson<WhatChangedAnswer>(
    '/hotpath.v1.ChangesService/WhatChanged',
    {
      profileTypeId: p.profileType,
      labelSelector: p.selector,
      start: String(p.fromMs),
      end: String(p.untilMs),
      baseline: p.baseline,
    },
    signal,
  );
}
