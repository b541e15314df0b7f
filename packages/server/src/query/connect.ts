// Connect `querier.v1.QuerierService` (compat §3.3): one registerUnary per method; decoding is ours
// (messages.ts) so malformed bodies are 400s; every call is scoped by the request's tenant (requestTenant, auth/hook.ts).

import { encodePprof, parseProfileTypeId, type Labels } from '@hotpath/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { registerUnary, type UnaryMethod } from '../connect/unary.ts';
import type { Limits } from '../limits.ts';
import type { Matcher, ProfileQuery, SeriesQuery } from '../store/types.ts';
import type { Deadline } from './budget.ts';
import { gated, type QueryContext } from './context.ts';
import { requestTenant } from '../auth/hook.ts';
import { checkProfileType, checkRange, queryErrors, resolveMaxNodes } from './errors.ts';
import {
  DiffRequestCodec,
  EmptyRequestCodec,
  LabelNamesRequestCodec,
  LabelValuesRequestCodec,
  ProfileFormat,
  ProfileTypesRequestCodec,
  SelectMergeProfileRequestCodec,
  SelectMergeSpanProfileRequestCodec,
  SelectMergeStacktracesRequestCodec,
  SelectSeriesRequestCodec,
  SeriesRequestCodec,
  diffResponseJson,
  encodeDiffResponse,
  encodeNames,
  encodeProfileStats,
  encodeProfileTypes,
  encodeSelectMergeStacktraces,
  encodeSelectSeriesResponse,
  encodeSeriesResponse,
  namesJson,
  profileStatsJson,
  profileTypesJson,
  selectMergeStacktracesJson,
  selectSeriesJson,
  seriesResponseJson,
  type DiffResponse,
  type ProfileStatsMessage,
  type ProfileTypeMessage,
  type SelectMergeStacktracesResponse,
  type SelectRequest,
  type SeriesMessage,
} from './messages.ts';
import { pprofToJson } from './pprof-json.ts';
import { functionTableDiffOf, isProjection, projectionOf } from './functions.ts';
import { selectFlamebearer, selectFlamebearerDiff, selectMergedProfile, selectSeries } from './readpath.ts';
import { parseSelector } from './selector.ts';
import { attachSpanExemplars, spanSelectorOf, wantsExemplars } from './spans.ts';
import { encodeTreeBytes } from './tree-bytes.ts';
import { stackFilterOf, withRule } from './series-filter.ts';

export const QUERIER = '/querier.v1.QuerierService';
/** ProfileTypes accepts a zero range (Grafana's health check sends 1000..4000): read all time then. */
const ALL_TIME_END_MS = 8.64e15;

/** `matchers` strings (OR of selectors) → store selectors; [] selects everything. */
export function selectorsOf(matchers: readonly string[]): Matcher[][] {
  return matchers.map((m) => parseSelector(m));
}

export function profileTypeMessage(id: string): ProfileTypeMessage {
  const t = parseProfileTypeId(id);
  if (t === null) return { id, name: id, sampleType: '', sampleUnit: '', periodType: '', periodUnit: '' };
  return {
    id,
    name: t.name,
    sampleType: t.sampleType,
    sampleUnit: t.sampleUnit,
    periodType: t.periodType,
    periodUnit: t.periodUnit,
  };
}

/** Validates a Select* request into a store query; span and trace id selectors keep only their spans' samples. */
function profileQueryOf(req: SelectRequest, tenant: string, limits: Limits): ProfileQuery {
  const type = checkProfileType(req.profileTypeId);
  if (req.labelSelector === '') throw queryErrors.missingLabelSelector();
  const matchers = parseSelector(req.labelSelector);
  checkRange(req.start, req.end, limits);
  const spans = spanSelectorOf(req.spanSelector, req.traceIdSelector, limits);
  return {
    tenant,
    profileTypeId: type.id,
    matchers,
    startMs: req.start,
    endMs: req.end,
    ...(spans !== undefined ? { spans } : {}),
  };
}

export function registerQuerierService(app: FastifyInstance, ctx: QueryContext): void {
  /** One QuerierService method; every call goes through the gate with its own deadline. */
  const method = <Req, Res>(
    name: string,
    codec: { binary(b: Uint8Array): Req; json(j: Record<string, unknown>): Req },
    encodeBinary: (res: Res) => Uint8Array,
    encodeJson: (res: Res) => unknown,
    handle: (req: Req, request: FastifyRequest, deadline: Deadline) => Promise<Res>,
  ): UnaryMethod<Req, Res> => ({
    path: `${QUERIER}/${name}`,
    decodeBinary: codec.binary,
    decodeJson: (j) => codec.json(j as Record<string, unknown>),
    encodeBinary,
    encodeJson,
    handle: (req, request) => gated(ctx, request, (deadline) => handle(req, request, deadline)),
  });
  const { store } = ctx.deps;
  const limits = ctx.limits;
  const opts = {
    // A query is a few KiB: its body is bounded by the query body limit after decompression too.
    maxDecompressedBytes: limits.maxQueryBodyBytes,
    maxJsonDepth: limits.maxJsonDepth,
    onDone: (path: string, seconds: number) =>
      ctx.metrics.queryDuration.observe(seconds, { method: path.slice(QUERIER.length + 1) }),
  };
  const seriesQuery = (
    req: { matchers: string[]; start: number; end: number },
    request: FastifyRequest,
  ): SeriesQuery => {
    const tenant = requestTenant(request);
    const selectors = selectorsOf(req.matchers);
    checkRange(req.start, req.end, limits);
    return { tenant, selectors, startMs: req.start, endMs: req.end };
  };

  registerUnary(
    app,
    method(
      'ProfileTypes',
      ProfileTypesRequestCodec,
      encodeProfileTypes,
      profileTypesJson,
      async (req, request) => {
        const tenant = requestTenant(request);
        let { start, end } = req;
        if (start === 0 && end === 0) end = ALL_TIME_END_MS;
        if (start > end) throw queryErrors.invalidTimeRange(start, end);
        const ids = await store.profileTypes({ tenant, selectors: [], startMs: start, endMs: end });
        return ids.map(profileTypeMessage);
      },
    ),
    opts,
  );

  registerUnary(
    app,
    method('LabelNames', LabelNamesRequestCodec, encodeNames, namesJson, async (req, request) =>
      store.labelNames(seriesQuery(req, request)),
    ),
    opts,
  );

  registerUnary(
    app,
    method('LabelValues', LabelValuesRequestCodec, encodeNames, namesJson, async (req, request) => {
      if (req.name === '') throw queryErrors.missingLabelName();
      return store.labelValues({ ...seriesQuery(req, request), name: req.name });
    }),
    opts,
  );

  registerUnary(
    app,
    method('Series', SeriesRequestCodec, encodeSeriesResponse, seriesResponseJson, async (req, request) => {
      const sets = await store.series(seriesQuery(req, request));
      return projectLabelSets(sets, req.labelNames);
    }),
    opts,
  );

  const mergeStacktraces = async (
    req: SelectRequest,
    request: FastifyRequest,
    deadline: Deadline,
  ): Promise<SelectMergeStacktracesResponse> => {
    const q = profileQueryOf(req, requestTenant(request), limits);
    return mergedAs(q, req, deadline);
  };
  const mergedAs = async (
    q: ProfileQuery,
    req: SelectRequest,
    deadline: Deadline,
  ): Promise<SelectMergeStacktracesResponse> => {
    const maxNodes = resolveMaxNodes(req.maxNodes, limits);
    if (req.format === ProfileFormat.Pprof) return { pprof: await pprofOf(q, deadline) };
    // The Drilldown app's top table and sandwich: from the whole merged profile (functions.ts).
    if (isProjection(req.format))
      return projectionOf(await selectMergedProfile(store, q, deadline), req, maxNodes);
    const fb = await selectFlamebearer(store, q, maxNodes, deadline);
    // TREE is Pyroscope's serialized tree (tree-bytes.ts); DOT is answered with the flame graph: documented.
    if (req.format === ProfileFormat.Tree) return { tree: encodeTreeBytes(fb) };
    return { flamegraph: { names: fb.names, levels: fb.levels, total: fb.numTicks, maxSelf: fb.maxSelf } };
  };
  const pprofOf = async (q: ProfileQuery, deadline: Deadline): Promise<Uint8Array> => {
    const profile = await selectMergedProfile(store, q, deadline);
    return encodePprof([profile], { timeNs: q.startMs * 1e6 });
  };

  registerUnary(
    app,
    method(
      'SelectMergeStacktraces',
      SelectMergeStacktracesRequestCodec,
      encodeSelectMergeStacktraces,
      (r) => selectMergeStacktracesJson(r, pprofToJson),
      mergeStacktraces,
    ),
    opts,
  );

  registerUnary(
    app,
    method(
      'SelectMergeSpanProfile',
      SelectMergeSpanProfileRequestCodec,
      encodeSelectMergeStacktraces,
      (r) => selectMergeStacktracesJson(r),
      async (req, request, deadline) => {
        // The profile of exactly the selected spans: an empty selector selects none (an empty graph).
        const q = profileQueryOf(req, requestTenant(request), limits);
        const spans = q.spans ?? { spanIds: [], traceIds: [] };
        const format = req.format === ProfileFormat.Tree ? ProfileFormat.Tree : ProfileFormat.Flamegraph;
        return mergedAs({ ...q, spans }, { ...req, format }, deadline);
      },
    ),
    opts,
  );

  registerUnary(
    app,
    method(
      'SelectMergeProfile',
      SelectMergeProfileRequestCodec,
      (b: Uint8Array) => b,
      pprofToJson,
      async (req, request, deadline) => {
        const q = profileQueryOf(req, requestTenant(request), limits);
        if (req.maxNodes !== undefined) resolveMaxNodes(req.maxNodes, limits); // validated; pprof is not truncated
        return pprofOf(q, deadline);
      },
    ),
    opts,
  );

  registerUnary(
    app,
    method(
      'SelectSeries',
      SelectSeriesRequestCodec,
      encodeSelectSeriesResponse,
      selectSeriesJson,
      async (asked, request): Promise<SeriesMessage[]> => {
        const { req, ruleMatchers } = await withRule(asked, store, requestTenant(request));
        const stacks = stackFilterOf(req, limits);
        const q = profileQueryOf(
          {
            ...req,
            maxNodes: undefined,
            format: 0,
            hasStackTraceSelector: false,
            spanSelector: [],
            traceIdSelector: [],
          },
          requestTenant(request),
          limits,
        );
        if (!(req.step > 0 && Number.isFinite(req.step))) throw queryErrors.missingStep();
        if (req.limit < 0) throw queryErrors.invalidMaxNodes(req.limit);
        const exemplars = wantsExemplars(req.exemplarType);
        const tq = {
          ...q,
          matchers: [...q.matchers, ...ruleMatchers],
          stepMs: req.step * 1000,
          groupBy: req.groupBy,
          aggregation: req.aggregation,
          ...(stacks !== undefined ? { stacks } : {}),
        };
        const series = await selectSeries(store, tq, req.limit);
        const out: SeriesMessage[] = series.map((s) => ({
          labels: s.labels,
          points: Array.from(s.timestampsMs, (t, i) => ({ value: s.values[i]!, timestampMs: t })),
        }));
        if (exemplars) await attachSpanExemplars(store, tq, out);
        return out;
      },
    ),
    opts,
  );

  registerUnary(
    app,
    method(
      'Diff',
      DiffRequestCodec,
      encodeDiffResponse,
      diffResponseJson,
      async (req, request, deadline): Promise<DiffResponse> => {
        if (req.left === undefined) throw queryErrors.missingDiffSide('left');
        if (req.right === undefined) throw queryErrors.missingDiffSide('right');
        const tenant = requestTenant(request);
        const left = profileQueryOf(req.left, tenant, limits);
        const right = profileQueryOf(req.right, tenant, limits);
        if (req.format === ProfileFormat.Functions) {
          // One row limit for the joined table, on the outer request (the app's shape).
          const limit = resolveMaxNodes(req.maxNodes ?? req.left.maxNodes, limits);
          if (left.profileTypeId !== right.profileTypeId)
            throw queryErrors.profileTypeMismatch(left.profileTypeId, right.profileTypeId);
          const [l, r] = await Promise.all([
            selectMergedProfile(store, left, deadline),
            selectMergedProfile(store, right, deadline),
          ]);
          return { functions: functionTableDiffOf(l, r, limit) };
        }
        const maxNodes = resolveMaxNodes(req.left.maxNodes ?? req.right.maxNodes, limits);
        const fb = await selectFlamebearerDiff(store, left, right, maxNodes, deadline);
        return {
          names: fb.names,
          levels: fb.levels,
          total: fb.numTicks,
          maxSelf: fb.maxSelf,
          leftTicks: fb.leftTicks,
          rightTicks: fb.rightTicks,
        };
      },
    ),
    opts,
  );

  registerUnary(
    app,
    method(
      'GetProfileStats',
      EmptyRequestCodec,
      encodeProfileStats,
      profileStatsJson,
      async (_req, request): Promise<ProfileStatsMessage> => {
        const s = await store.stats(requestTenant(request));
        return {
          dataIngested: s.dataIngested,
          oldestProfileTime: s.oldestProfileTimeMs,
          newestProfileTime: s.newestProfileTimeMs,
        };
      },
    ),
    opts,
  );
}

/** Keeps only `names` of each label set (all when empty), deduplicated, in the store's order. */
export function projectLabelSets(sets: Labels[], names: readonly string[]): Labels[] {
  if (names.length === 0) return sets;
  const wanted = new Set(names);
  const seen = new Set<string>();
  const out: Labels[] = [];
  for (const s of sets) {
    const kept = s.filter((l) => wanted.has(l.name));
    const key = JSON.stringify(kept);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(kept);
  }
  return out;
}
