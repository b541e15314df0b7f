// Connect `querier.v1.QuerierService/SelectHeatmap` (messages: proto/querier/v1/heatmap.proto): how
// the values of individual profiles (HEATMAP_QUERY_TYPE_INDIVIDUAL: each appended profile's total) or
// of spans (HEATMAP_QUERY_TYPE_SPAN: each span's total) spread over time, as Pyroscope builds it: 20
// value buckets evenly spaced between the smallest and the largest value of all series, one slot per
// step (right edge; the slot covers (t - step, t]), a count per bucket, and per counted bucket the
// largest point as its exemplar (with the span id of the profile's largest span when it has spans).
// Spans carry no series labels here, so a SPAN heatmap is one series whatever group_by says.

import { create } from '@bufbuild/protobuf';
import { formatLabels, type Labels } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  HeatmapQueryType,
  SelectHeatmapRequestSchema,
  SelectHeatmapResponseSchema,
} from '../gen/querier/v1/heatmap_pb.ts';
import {
  ExemplarSchema,
  ExemplarType,
  HeatmapSeriesSchema,
  HeatmapSlotSchema,
  LabelPairSchema,
  type HeatmapSeries,
} from '../gen/types/v1/types_pb.ts';
import type { ProfileQuery, Store } from '../store/types.ts';
import { QUERIER } from './connect.ts';
import { gated, type QueryContext } from './context.ts';
import { drilldownErrors } from './drilldown-errors.ts';
import { checkProfileType, checkRange, queryErrors } from './errors.ts';
import { parseSelector } from './selector.ts';
import { spanIdHex } from './spans.ts';

/** Value buckets per slot (Pyroscope's DefaultYAxisBuckets). */
export const HEATMAP_BUCKETS = 20;

/** One individual value: a profile's total or a span's total. */
export interface HeatmapPoint {
  /** All labels of the point's series ([] for spans). */
  readonly labels: Labels;
  readonly timeMs: number;
  readonly value: number;
  readonly spanId?: bigint;
  readonly traceId?: string;
}

/** Each profile's total (a time series at a 1 ms step over every label), with its largest span. */
async function profilePoints(store: Store, q: ProfileQuery, exemplars: boolean): Promise<HeatmapPoint[]> {
  const groupBy = await store.labelNames({
    tenant: q.tenant,
    selectors: [q.matchers],
    startMs: q.startMs,
    endMs: q.endMs,
  });
  const tq = { ...q, stepMs: 1, groupBy, aggregation: 'sum' as const };
  const series = await store.timeSeries(tq);
  const spans = new Map<string, { spanId: bigint; traceId: string }>();
  if (exemplars)
    for (const e of await store.spanExemplars(tq)) spans.set(`${formatLabels(e.labels)}@${e.timestampMs}`, e);
  const out: HeatmapPoint[] = [];
  for (const s of series) {
    const key = formatLabels(s.labels);
    for (let i = 0; i < s.timestampsMs.length; i++) {
      const timeMs = s.timestampsMs[i]!;
      const span = spans.get(`${key}@${timeMs}`);
      out.push({
        labels: s.labels,
        timeMs,
        value: s.values[i]!,
        ...(span ? { spanId: span.spanId, traceId: span.traceId } : {}),
      });
    }
  }
  return out;
}

/** The right edge of the slot holding t: start + k·step for the smallest k with t <= it, within [start, end's slot]. */
function slotOf(t: number, startMs: number, endMs: number, stepMs: number): number {
  const edge = (x: number) => startMs + Math.ceil((x - startMs) / stepMs) * stepMs;
  return Math.min(Math.max(edge(t), startMs), edge(endMs));
}

/** Pyroscope's heatmap of points; `groupBy` names the labels that tell series apart. */
export function heatmapOf(
  points: readonly HeatmapPoint[],
  range: { startMs: number; endMs: number; stepMs: number },
  groupBy: readonly string[],
  withExemplars: boolean,
  limit: number,
): HeatmapSeries[] {
  if (points.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const p of points) {
    const v = Math.trunc(p.value);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) max = min + 1;
  const size = (max - min) / HEATMAP_BUCKETS;
  const yMin = Array.from({ length: HEATMAP_BUCKETS }, (_, i) => min + Math.trunc(i * size));
  const bucketOf = (v: number) => {
    for (let i = HEATMAP_BUCKETS - 1; i >= 0; i--) if (v >= yMin[i]!) return i;
    return 0;
  };
  const wanted = new Set(groupBy);
  const groups = new Map<string, { labels: Labels; total: number; points: HeatmapPoint[] }>();
  for (const p of points) {
    const labels = p.labels.filter((l) => wanted.has(l.name));
    const key = formatLabels(labels);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { labels, total: 0, points: [] }));
    g.total += p.value;
    g.points.push(p);
  }
  let kept = [...groups.values()].sort((a, b) => b.total - a.total);
  if (limit > 0) kept = kept.slice(0, limit);
  kept.sort((a, b) => (formatLabels(a.labels) < formatLabels(b.labels) ? -1 : 1));
  return kept.map((g) => {
    // Per slot: counts per bucket and the largest point of each bucket.
    const slots = new Map<number, { counts: number[]; best: (HeatmapPoint | undefined)[] }>();
    for (const p of g.points) {
      const t = slotOf(p.timeMs, range.startMs, range.endMs, range.stepMs);
      let s = slots.get(t);
      if (s === undefined) slots.set(t, (s = { counts: new Array<number>(HEATMAP_BUCKETS).fill(0), best: [] }));
      const b = bucketOf(Math.trunc(p.value));
      s.counts[b] = s.counts[b]! + 1;
      if (s.best[b] === undefined || p.value > s.best[b]!.value) s.best[b] = p;
    }
    return create(HeatmapSeriesSchema, {
      labels: g.labels.map((l) => create(LabelPairSchema, l)),
      slots: [...slots.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, s]) =>
          create(HeatmapSlotSchema, {
            timestamp: BigInt(t),
            yMin,
            counts: s.counts,
            exemplars: withExemplars
              ? s.best.flatMap((p) => (p === undefined ? [] : [exemplarOf(p, wanted)]))
              : [],
          }),
        ),
    });
  });
}

function exemplarOf(p: HeatmapPoint, groupBy: ReadonlySet<string>) {
  return create(ExemplarSchema, {
    timestamp: BigInt(Math.trunc(p.timeMs)),
    value: BigInt(Math.round(p.value)),
    spanId: p.spanId === undefined ? '' : spanIdHex(p.spanId),
    traceId: p.traceId ?? '',
    labels: p.labels.filter((l) => !groupBy.has(l.name)).map((l) => create(LabelPairSchema, l)),
  });
}

export function registerHeatmap(app: FastifyInstance, ctx: QueryContext): void {
  const { store } = ctx.deps;
  const limits = ctx.limits;
  registerUnary(
    app,
    generatedMethod(
      `${QUERIER}/SelectHeatmap`,
      SelectHeatmapRequestSchema,
      SelectHeatmapResponseSchema,
      (req, request) =>
        gated(ctx, request, async (deadline) => {
          const type = checkProfileType(req.profileTypeID);
          if (req.labelSelector === '') throw queryErrors.missingLabelSelector();
          const matchers = parseSelector(req.labelSelector);
          const startMs = Number(req.start);
          const endMs = Number(req.end);
          checkRange(startMs, endMs, limits);
          if (!(req.step > 0 && Number.isFinite(req.step))) throw queryErrors.missingStep();
          const limit = req.limit === undefined ? 0 : Number(req.limit);
          if (limit < 0) throw queryErrors.invalidMaxNodes(limit);
          if (!(req.queryType in HeatmapQueryType))
            throw drilldownErrors.invalidHeatmapQueryType(req.queryType);
          if (!(req.exemplarType in ExemplarType)) throw queryErrors.invalidExemplarType(req.exemplarType);
          const withExemplars =
            req.exemplarType === ExemplarType.INDIVIDUAL || req.exemplarType === ExemplarType.SPAN;
          const q: ProfileQuery = {
            tenant: requestTenant(request),
            profileTypeId: type.id,
            matchers,
            startMs,
            endMs,
          };
          const points =
            req.queryType === HeatmapQueryType.SPAN
              ? (await store.spans({ ...q, limit: limits.maxSpansPerQuery })).map((s) => ({
                  labels: [],
                  timeMs: s.lastMs,
                  value: s.total,
                  spanId: s.spanId,
                  traceId: s.traceId,
                }))
              : await profilePoints(store, q, withExemplars);
          deadline.check();
          const series = heatmapOf(
            points,
            { startMs, endMs, stepMs: req.step * 1000 },
            req.groupBy,
            withExemplars,
            limit,
          );
          return create(SelectHeatmapResponseSchema, { series });
        }),
    ),
    {
      maxDecompressedBytes: limits.maxQueryBodyBytes,
      maxJsonDepth: limits.maxJsonDepth,
      onDone: (_path, seconds) => ctx.metrics.queryDuration.observe(seconds, { method: 'SelectHeatmap' }),
    },
  );
}
