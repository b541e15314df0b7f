// Connect `hotpath.v1.ChangesService/WhatChanged` (docs/api.md): core's whatChanged engine over the
// read path (mergeStacks through selectMergedProfile, timeSeries, labelNames), in the query gate with
// its deadline like every QuerierService method. Messages are generated from proto/hotpath/v1.

import { create } from '@bufbuild/protobuf';
import {
  getLabel,
  whatChanged,
  type ChangeRange,
  type ChangeReport,
  type ChangeSource,
  type LabelEq,
  type Side,
} from '@hotpath/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  WhatChangedRequestSchema,
  WhatChangedResponseSchema,
  type WhatChangedRequest,
  type WhatChangedResponse,
} from '../gen/hotpath/v1/changes_pb.ts';
import type { Matcher } from '../store/types.ts';
import type { Deadline } from './budget.ts';
import { gated, type QueryContext } from './context.ts';
import { checkProfileType, checkRange, queryErrors } from './errors.ts';
import { selectMergedProfile } from './readpath.ts';
import { formatSelector, parseSelector } from './selector.ts';

export const CHANGES_SERVICE = '/hotpath.v1.ChangesService';
/** Labels a request may name at most; each costs two profile reads per value examined. */
export const MAX_CHANGE_LABELS = 8;
/** Values examined per label (the largest first): bounds the reads of one request. */
export const MAX_CHANGE_VALUES = 8;
/** Labels examined when the request names none (the selection's own, by name). */
export const DEFAULT_CHANGE_LABELS = 6;
/** Pyroscope's SDKs sample CPU at 100 Hz: one sample is 10 ms. */
const NS_PER_CPU_SAMPLE = 1e7;
const SHIFT = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The baseline range of a request (null: none), validated like the head range. */
export function baselineOf(
  req: WhatChangedRequest,
  head: ChangeRange,
  ctx: QueryContext,
): ChangeRange | null {
  if (req.baselineEnd !== 0n || req.baselineStart !== 0n) {
    const r = { startMs: Number(req.baselineStart), endMs: Number(req.baselineEnd) };
    checkRange(r.startMs, r.endMs, ctx.limits, 'baselineStart/baselineEnd');
    return r;
  }
  const b = req.baseline.trim();
  if (b === '') return null;
  let r: ChangeRange;
  if (b === 'previous') {
    const len = head.endMs - head.startMs + 1;
    r = { startMs: head.startMs - len, endMs: head.startMs - 1 };
  } else {
    const m = SHIFT.exec(b);
    if (m === null) throw queryErrors.invalidBaseline(b);
    const shift = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    r = { startMs: head.startMs - shift, endMs: head.endMs - shift };
  }
  checkRange(r.startMs, r.endMs, ctx.limits, 'baseline');
  return r;
}

function threshold(param: string, v: number): number | undefined {
  if (!(Number.isFinite(v) && v >= 0)) throw queryErrors.invalidThreshold(param, v);
  return v === 0 ? undefined : v;
}

/** The read path as the engine sees it: one tenant, profile type and selector. */
export function storeChangeSource(
  ctx: QueryContext,
  tenant: string,
  profileTypeId: string,
  matchers: readonly Matcher[],
  deadline: Deadline,
): ChangeSource {
  const { store } = ctx.deps;
  const eq = (where: readonly LabelEq[]): Matcher[] => [
    ...matchers,
    ...where.map((w) => ({ name: w.name, op: '=' as const, value: w.value })),
  ];
  return {
    profile: (range, where) =>
      selectMergedProfile(
        store,
        { tenant, profileTypeId, matchers: eq(where), startMs: range.startMs, endMs: range.endMs },
        deadline,
      ),
    async series(range, label, stepMs) {
      const series = await store.timeSeries({
        tenant,
        profileTypeId,
        matchers,
        startMs: range.startMs,
        endMs: range.endMs,
        stepMs,
        groupBy: label === null ? [] : [label],
        aggregation: 'sum',
      });
      deadline.check();
      return series.map((s) => ({
        value: label === null ? '' : (getLabel(s.labels, label) ?? ''),
        timesMs: Array.from(s.timestampsMs),
        values: Array.from(s.values),
      }));
    },
    labelNames: (range) =>
      store.labelNames({ tenant, selectors: [[...matchers]], startMs: range.startMs, endMs: range.endMs }),
  };
}

/** The request's selector narrowed to one side of a finding. */
export function sideSelector(matchers: readonly Matcher[], side: Side): string {
  return formatSelector([
    ...matchers,
    ...side.where.map((w) => ({ name: w.name, op: '=' as const, value: w.value })),
    ...side.not.map((w) => ({ name: w.name, op: '!=' as const, value: w.value })),
  ]);
}

const range = (r: ChangeRange) => ({ start: BigInt(r.startMs), end: BigInt(r.endMs) });

export function responseOf(
  req: WhatChangedRequest,
  matchers: readonly Matcher[],
  report: ChangeReport,
): WhatChangedResponse {
  return create(WhatChangedResponseSchema, {
    profileTypeId: req.profileTypeId,
    labelSelector: req.labelSelector,
    head: range(report.head),
    ...(report.baseline !== null ? { baseline: range(report.baseline) } : {}),
    baselineEmpty: report.baselineEmpty,
    baselineCoverage: report.baselineCoverage,
    headCoverage: report.headCoverage,
    ...(report.baselineCompared !== null ? { baselineCompared: range(report.baselineCompared) } : {}),
    ...(report.headCompared !== null ? { headCompared: range(report.headCompared) } : {}),
    coverageWarning: report.coverageWarning,
    ...(report.totalChange !== null ? { totalChange: report.totalChange } : {}),
    minZ: report.thresholds.minZ,
    minShareDelta: report.thresholds.minShareDelta,
    minSamples: report.thresholds.minSamples,
    unit: report.unit,
    baseTotal: report.baseTotal,
    headTotal: report.headTotal,
    grew: report.grew,
    shrank: report.shrank,
    explanations: report.explanations,
    outliers: report.outliers,
    periods: report.periods.map((p) => ({
      ...p,
      stepMs: BigInt(p.stepMs),
      slow: p.slow.map(range),
      slowExample: range(p.slowExample),
      fastExample: range(p.fastExample),
    })),
    findings: report.findings.map((f) => ({
      kind: f.kind,
      function: f.function,
      label: f.label ?? '',
      value: f.value ?? '',
      score: f.score,
      text: f.text,
      left: { labelSelector: sideSelector(matchers, f.left), ...range(f.left.range) },
      right: { labelSelector: sideSelector(matchers, f.right), ...range(f.right.range) },
    })),
    labels: report.labels,
    labelsSkipped: report.labelsSkipped,
    valuesSkipped: report.valuesSkipped,
  });
}

async function handle(
  ctx: QueryContext,
  req: WhatChangedRequest,
  request: FastifyRequest,
  deadline: Deadline,
): Promise<WhatChangedResponse> {
  const type = checkProfileType(req.profileTypeId);
  const matchers = parseSelector(req.labelSelector === '' ? '{}' : req.labelSelector);
  const head = { startMs: Number(req.start), endMs: Number(req.end) };
  checkRange(head.startMs, head.endMs, ctx.limits);
  const baseline = baselineOf(req, head, ctx);
  if (req.labels.length > MAX_CHANGE_LABELS)
    throw queryErrors.tooManyLabels(MAX_CHANGE_LABELS, req.labels.length);
  const minZ = threshold('minZ', req.minZ);
  const minShareDelta = threshold('minShareDelta', req.minShareDelta);
  const minSamples = threshold('minSamples', req.minSamples);
  const source = storeChangeSource(ctx, requestTenant(request), type.id, matchers, deadline);
  const report = await whatChanged(source, head, baseline, {
    ...(req.labels.length > 0 ? { labels: req.labels } : {}),
    maxLabels: req.labels.length > 0 ? MAX_CHANGE_LABELS : DEFAULT_CHANGE_LABELS,
    maxValues: MAX_CHANGE_VALUES,
    valuePerSample: type.sampleUnit === 'nanoseconds' ? NS_PER_CPU_SAMPLE : 1,
    ...(minZ !== undefined ? { minZ } : {}),
    ...(minShareDelta !== undefined ? { minShareDelta } : {}),
    ...(minSamples !== undefined ? { minSamples } : {}),
    check: () => deadline.check(),
  });
  deadline.check();
  return responseOf(req, matchers, report);
}

export function registerChangesService(app: FastifyInstance, ctx: QueryContext): void {
  registerUnary(
    app,
    generatedMethod(
      `${CHANGES_SERVICE}/WhatChanged`,
      WhatChangedRequestSchema,
      WhatChangedResponseSchema,
      (req, request) => gated(ctx, request, (deadline) => handle(ctx, req, request, deadline)),
    ),
    {
      maxDecompressedBytes: ctx.limits.maxQueryBodyBytes,
      maxJsonDepth: ctx.limits.maxJsonDepth,
      onDone: (_path: string, seconds: number) =>
        ctx.metrics.queryDuration.observe(seconds, { method: 'WhatChanged' }),
    },
  );
}
