// Legacy HTTP read API (compat §3.1): GET /pyroscope/render, /pyroscope/render-diff,
// /pyroscope/label-values, and the older OG routes /render, /render-diff, /labels, /label-values,
// /api/apps whose queries name an app as `<service>.<sample type>` (e.g. ride-sharing-app.cpu).

import {
  clampSampleValue,
  parseProfileTypeId,
  type Flamebearer,
  type FlamebearerDiff,
  type ProfileType,
} from '@hotpath/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../connect/unary.ts';
import { requestErrors } from '../errors.ts';
import type { Matcher, ProfileQuery } from '../store/types.ts';
import { calcPointIntervalSec, parseAttime } from './render-time.ts';
import type { Deadline } from './budget.ts';
import { requestTenant } from '../auth/hook.ts';
import { gated, type QueryContext } from './context.ts';
import { checkRange, queryErrors, resolveMaxNodes } from './errors.ts';
import { selectFlamebearer, selectFlamebearerDiff, selectMergedProfile } from './readpath.ts';
import { parseMetricSelector, parseQuery } from './selector.ts';
import { exportDotText } from './dot.ts';

export type Query = Record<string, string | string[] | undefined>;

function params(q: Query, name: string): string[] {
  const v = q[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function param(q: Query, name: string): string | undefined {
  return params(q, name)[0];
}

export interface Metadata {
  format: 'single' | 'double';
  spyName: string;
  sampleRate: number;
  units: string;
  name: string;
}

/** Flamebearer metadata as Pyroscope v1/v2 derives it from the profile type (compat §3.1). */
export function metadataOf(type: ProfileType, format: 'single' | 'double' = 'single'): Metadata {
  let units = type.sampleUnit;
  let sampleRate = 100;
  if (type.sampleType === 'cpu') {
    units = 'samples';
    sampleRate = 1_000_000_000;
  } else if (['inuse_objects', 'alloc_objects', 'goroutine', 'samples'].includes(type.sampleType))
    units = 'objects';
  return { format, spyName: '', sampleRate, units, name: type.sampleType };
}

export interface Timeline {
  /** Unix seconds, snapped down to a multiple of durationDelta. */
  startTime: number;
  samples: number[];
  /** Step, seconds. */
  durationDelta: number;
  watermarks: null;
}

/** Parses a required time parameter; 0 and absent are "missing" (400) like Pyroscope's render. */
export function timeParam(q: Query, name: string, nowMs: number): number {
  const raw = param(q, name);
  if (raw === undefined || raw === '') return nowMs;
  const ms = parseAttime(raw, nowMs);
  if (ms === null) throw queryErrors.invalidTime(name, raw);
  return ms;
}

/** maxNodes / max-nodes: unparsable → default (Pyroscope answers 200), above the maximum → 400. */
function maxNodesParam(q: Query, ctx: QueryContext): number {
  const raw = param(q, 'maxNodes') ?? param(q, 'max-nodes');
  const n = raw === undefined ? NaN : Number(raw);
  return resolveMaxNodes(Number.isInteger(n) ? n : undefined, ctx.limits);
}

/** Timelines of a query, one per value of `groupBy` ('' = one for everything). */
async function timelines(
  ctx: QueryContext,
  q: ProfileQuery,
  aggregation: 'sum' | 'avg',
  groupBy: string,
): Promise<Map<string, Timeline>> {
  const step = calcPointIntervalSec(q.startMs, q.endMs);
  let startS = Math.floor(q.startMs / 1000);
  startS -= startS % step;
  let endS = Math.floor(q.endMs / 1000);
  endS -= endS % step;
  const n = Math.max(0, (endS - startS) / step);
  const series = await ctx.deps.store.timeSeries({
    ...q,
    startMs: startS * 1000,
    stepMs: step * 1000,
    groupBy: groupBy === '' ? [] : [groupBy],
    aggregation,
  });
  const out = new Map<string, Timeline>();
  for (const s of series) {
    const key = groupBy === '' ? '' : (s.labels.find((l) => l.name === groupBy)?.value ?? '*');
    let t = out.get(key);
    if (t === undefined) {
      t = { startTime: startS, samples: new Array<number>(n).fill(0), durationDelta: step, watermarks: null };
      out.set(key, t);
    }
    for (let i = 0; i < s.timestampsMs.length; i++) {
      const k = Math.floor((s.timestampsMs[i]! / 1000 - startS) / step);
      if (k >= 0 && k < n) t.samples[k]! += clampSampleValue(Math.round(s.values[i]!));
    }
  }
  if (groupBy === '' && !out.has(''))
    out.set('', {
      startTime: startS,
      samples: new Array<number>(n).fill(0),
      durationDelta: step,
      watermarks: null,
    });
  return out;
}

function flamebearerJson(fb: Flamebearer): Record<string, unknown> {
  return { names: fb.names, levels: fb.levels, numTicks: fb.numTicks, maxSelf: fb.maxSelf };
}

export function timed(
  ctx: QueryContext,
  name: string,
  handler: (request: FastifyRequest, reply: FastifyReply, deadline: Deadline) => Promise<unknown>,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const started = performance.now();
    try {
      return await gated(ctx, request, (deadline) => handler(request, reply, deadline));
    } catch (err) {
      return sendError(reply, err);
    } finally {
      ctx.metrics.queryDuration.observe((performance.now() - started) / 1000, { method: name });
    }
  };
}

/** 405 for every method but GET on a read route. */
export function getOnly(
  app: FastifyInstance,
  url: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  app.get(url, handler);
  app.route({
    method: ['POST', 'PUT', 'DELETE', 'PATCH'],
    url,
    handler: async (request, reply) => {
      reply.header('allow', 'GET');
      return sendError(reply, requestErrors.methodNotAllowed(request.method, ` on ${url}`, 'use GET'));
    },
  });
}

interface ResolvedQuery {
  readonly type: ProfileType;
  readonly matchers: Matcher[];
}

/**
 * A render query: `<profile type id>{...}` always; with `og`, also `<app>.<sample type>{...}`
 * resolved to service_name=<app> and the profile type with that sample type (null: no data).
 */
async function resolveQuery(
  ctx: QueryContext,
  text: string | undefined,
  paramName: string,
  og: boolean,
  tenant: string,
  fromMs: number,
  untilMs: number,
): Promise<ResolvedQuery | null> {
  if (text === undefined || text.trim() === '') throw queryErrors.missingParameter(paramName);
  if (!og) {
    const { profileTypeId, matchers } = parseQuery(text);
    return { type: parseProfileTypeId(profileTypeId)!, matchers };
  }
  const { name, matchers } = parseMetricSelector(text);
  const direct = parseProfileTypeId(name);
  if (direct !== null) return { type: direct, matchers };
  if (name === '') parseQuery(text); // throws invalid_selector: a profile type or an app name is needed
  const dot = name.lastIndexOf('.');
  const app = dot === -1 ? name : name.slice(0, dot);
  const sampleType = dot === -1 ? 'cpu' : name.slice(dot + 1);
  const withApp: Matcher[] = [...matchers, { name: 'service_name', op: '=', value: app }];
  const types = await ctx.deps.store.profileTypes({
    tenant,
    selectors: [withApp],
    startMs: fromMs,
    endMs: untilMs,
  });
  const match = types
    .map((t) => parseProfileTypeId(t))
    .find((t) => t !== null && t.sampleType === sampleType);
  return match ? { type: match, matchers: withApp } : null;
}

function emptyFlamebearer(): Flamebearer {
  return { names: ['total'], levels: [[0, 0, 0, 0]], numTicks: 0, maxSelf: 0 };
}

export function registerRenderRoutes(app: FastifyInstance, ctx: QueryContext): void {
  const { store } = ctx.deps;

  const render = (og: boolean) =>
    timed(ctx, og ? 'render' : 'pyroscope/render', async (request, reply, deadline) => {
      const q = request.query as Query;
      const tenant = requestTenant(request);
      const now = ctx.now();
      const from = timeParam(q, 'from', now);
      const until = timeParam(q, 'until', now);
      const text = param(q, 'query') ?? (og ? param(q, 'name') : undefined);
      const resolved = await resolveQuery(ctx, text, 'query', og, tenant, from, until);
      checkRange(from, until, ctx.limits, 'from/until');
      const maxNodes = maxNodesParam(q, ctx);
      const aggregation = param(q, 'aggregation') === 'avg' ? 'avg' : 'sum';
      const groupBy = params(q, 'groupBy')[0] ?? '';
      const format = param(q, 'format');
      if (resolved === null) {
        if (format === 'dot') return reply.code(200).type('text/plain; charset=utf-8').send('');
        const sampleType = (text ?? '').split('{')[0]!.split('.').pop() ?? 'cpu';
        return reply.send({
          version: 1,
          flamebearer: flamebearerJson(emptyFlamebearer()),
          metadata: { format: 'single', spyName: '', sampleRate: 100, units: '', name: sampleType },
          timeline: null,
          groups: null,
          heatmap: null,
        });
      }
      const pq: ProfileQuery = {
        tenant,
        profileTypeId: resolved.type.id,
        matchers: resolved.matchers,
        startMs: from,
        endMs: until,
      };
      if (format === 'dot') {
        const profile = await selectMergedProfile(store, pq, deadline);
        const raw = param(q, 'maxNodes') ?? param(q, 'max-nodes');
        const dotNodes = raw !== undefined && Number(raw) > 0 ? maxNodes : 100;
        return reply
          .code(200)
          .type('text/plain; charset=utf-8')
          .send(profile.samples.length === 0 ? '' : exportDotText(profile, dotNodes));
      }
      const [fb, lines, groups] = await Promise.all([
        selectFlamebearer(store, pq, maxNodes, deadline),
        timelines(ctx, pq, aggregation, ''),
        groupBy === '' ? Promise.resolve(null) : timelines(ctx, pq, aggregation, groupBy),
      ]);
      return reply.send({
        version: 1,
        flamebearer: flamebearerJson(fb),
        metadata: metadataOf(resolved.type),
        timeline: lines.get('') ?? null,
        groups: groups === null ? null : Object.fromEntries(groups),
        heatmap: null,
      });
    });

  const renderDiff = (og: boolean) =>
    timed(ctx, og ? 'render-diff' : 'pyroscope/render-diff', async (request, reply, deadline) => {
      const q = request.query as Query;
      const tenant = requestTenant(request);
      const now = ctx.now();
      const sides = [] as { resolved: ResolvedQuery | null; from: number; until: number }[];
      for (const side of ['left', 'right'] as const) {
        const from = timeParam(q, `${side}From`, now);
        const until = timeParam(q, `${side}Until`, now);
        const resolved = await resolveQuery(
          ctx,
          param(q, `${side}Query`),
          `${side}Query`,
          og,
          tenant,
          from,
          until,
        );
        checkRange(from, until, ctx.limits, `${side}From/${side}Until`);
        sides.push({ resolved, from, until });
      }
      const [l, r] = sides as [(typeof sides)[0], (typeof sides)[0]];
      if (l.resolved && r.resolved && l.resolved.type.id !== r.resolved.type.id) {
        throw queryErrors.profileTypeMismatch(l.resolved.type.id, r.resolved.type.id);
      }
      const maxNodes = maxNodesParam(q, ctx);
      const type = l.resolved?.type ?? r.resolved?.type;
      const queryOf = (s: (typeof sides)[0]): ProfileQuery => ({
        tenant,
        profileTypeId: s.resolved?.type.id ?? type?.id ?? 'none:none:none::',
        matchers: s.resolved?.matchers ?? [{ name: '__profile_type__', op: '=', value: '' }],
        startMs: s.from,
        endMs: s.until,
      });
      const fb: FlamebearerDiff = await selectFlamebearerDiff(
        store,
        queryOf(l),
        queryOf(r),
        maxNodes,
        deadline,
      );
      return reply.send({
        version: 1,
        flamebearer: flamebearerJson(fb),
        metadata: type
          ? metadataOf(type, 'double')
          : { format: 'double', spyName: '', sampleRate: 100, units: '', name: '' },
        timeline: null,
        groups: null,
        heatmap: null,
        leftTicks: fb.leftTicks,
        rightTicks: fb.rightTicks,
      });
    });

  /** Range of label routes: from/until when given, else the last 7 days. */
  const labelRange = (q: Query): { startMs: number; endMs: number } => {
    const now = ctx.now();
    const endMs = param(q, 'until') ? timeParam(q, 'until', now) : now;
    const startMs = param(q, 'from') ? timeParam(q, 'from', now) : endMs - ctx.limits.maxQueryRangeMs;
    checkRange(startMs, endMs, ctx.limits, 'from/until');
    return { startMs, endMs };
  };
  const selectorsOfQuery = (q: Query): Matcher[][] => {
    const text = param(q, 'query');
    if (text === undefined || text.trim() === '') return [];
    return [parseMetricSelector(text).matchers];
  };

  getOnly(app, '/pyroscope/render', render(false));
  getOnly(app, '/pyroscope/render-diff', renderDiff(false));
  getOnly(app, '/render', render(true));
  getOnly(app, '/render-diff', renderDiff(true));

  getOnly(
    app,
    '/pyroscope/label-values',
    timed(ctx, 'pyroscope/label-values', async (request, reply) => {
      const q = request.query as Query;
      const label = param(q, 'label');
      if (label === undefined || label === '') throw queryErrors.missingParameter('label');
      const tenant = requestTenant(request);
      const range = labelRange(q);
      if (label === '__name__')
        return reply.send(await store.profileTypes({ tenant, selectors: [], ...range }));
      return reply.send(
        await store.labelValues({ tenant, selectors: selectorsOfQuery(q), ...range, name: label }),
      );
    }),
  );

  getOnly(
    app,
    '/labels',
    timed(ctx, 'labels', async (request, reply) => {
      const q = request.query as Query;
      const names = await store.labelNames({
        tenant: requestTenant(request),
        selectors: selectorsOfQuery(q),
        ...labelRange(q),
      });
      return reply.send(names.filter((n) => !n.startsWith('__') || n === '__name__'));
    }),
  );

  getOnly(
    app,
    '/label-values',
    timed(ctx, 'label-values', async (request, reply) => {
      const q = request.query as Query;
      const label = param(q, 'label');
      if (label === undefined || label === '') throw queryErrors.missingParameter('label');
      const tenant = requestTenant(request);
      const range = labelRange(q);
      if (label === '__name__') return reply.send((await appsOf(tenant, range)).map((a) => a.name));
      return reply.send(
        await store.labelValues({ tenant, selectors: selectorsOfQuery(q), ...range, name: label }),
      );
    }),
  );

  /** OG apps: one per (service_name, profile type), named `<service>.<sample type>`. */
  const appsOf = async (tenant: string, range: { startMs: number; endMs: number }) => {
    const sets = await store.series({ tenant, selectors: [], ...range });
    const apps = new Map<string, { name: string; spyName: string; sampleRate: number; units: string }>();
    for (const labels of sets) {
      const get = (n: string): string | undefined => labels.find((l) => l.name === n)?.value;
      const type = parseProfileTypeId(get('__profile_type__') ?? '');
      const service = get('service_name');
      if (type === null || service === undefined) continue;
      const name = `${service}.${type.sampleType}`;
      if (apps.has(name)) continue;
      const meta = metadataOf(type);
      apps.set(name, {
        name,
        spyName: get('pyroscope_spy') ?? '',
        sampleRate: meta.sampleRate,
        units: meta.units,
      });
    }
    return [...apps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  app.get(
    '/api/apps',
    timed(ctx, 'api/apps', async (request, reply) =>
      reply.send(await appsOf(requestTenant(request), labelRange(request.query as Query))),
    ),
  );
}
