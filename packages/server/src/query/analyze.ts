// Connect `querier.v1.QuerierService/AnalyzeQuery` (messages: proto/querier/v1/heatmap.proto): what a
// query (`<profile type>{selector}` or `{selector}`) would read over a range, answered from the cheap
// per-profile index (series and profile counts) without reading samples. Hotpath has one storage
// component, so there is one query scope; the byte and sample fields stay 0 (not measured here).

import { create } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  AnalyzeQueryRequestSchema,
  AnalyzeQueryResponseSchema,
  QueryImpactSchema,
  QueryScopeSchema,
} from '../gen/querier/v1/heatmap_pb.ts';
import type { Matcher } from '../store/types.ts';
import { QUERIER } from './connect.ts';
import { gated, type QueryContext } from './context.ts';
import { checkRange } from './errors.ts';
import { parseQuery, parseSelector } from './selector.ts';

export function registerAnalyzeQuery(app: FastifyInstance, ctx: QueryContext): void {
  const { store } = ctx.deps;
  const limits = ctx.limits;
  registerUnary(
    app,
    generatedMethod(
      `${QUERIER}/AnalyzeQuery`,
      AnalyzeQueryRequestSchema,
      AnalyzeQueryResponseSchema,
      (req, request) =>
        gated(ctx, request, async () => {
          const tenant = requestTenant(request);
          const startMs = Number(req.start);
          const endMs = Number(req.end);
          checkRange(startMs, endMs, limits);
          const text = req.query.trim();
          let matchers: Matcher[];
          let types: string[];
          if (text === '' || text.startsWith('{')) {
            matchers = text === '' ? [] : parseSelector(text);
            types = await store.profileTypes({ tenant, selectors: [matchers], startMs, endMs });
          } else {
            const parsed = parseQuery(text);
            matchers = parsed.matchers;
            types = [parsed.profileTypeId];
          }
          const range = { tenant, startMs, endMs };
          const series = await store.series({ ...range, selectors: [matchers] });
          const groupBy = await store.labelNames({ ...range, selectors: [matchers] });
          // Profiles: points of a 1 ms time series over every label are the appended profiles.
          let profiles = 0;
          for (const profileTypeId of types) {
            const ts = await store.timeSeries({
              ...range,
              profileTypeId,
              matchers,
              stepMs: 1,
              groupBy,
              aggregation: 'sum',
            });
            for (const s of ts) profiles += s.timestampsMs.length;
          }
          return create(AnalyzeQueryResponseSchema, {
            queryScopes: [
              create(QueryScopeSchema, {
                componentType: `store (${store.kind})`,
                componentCount: 1n,
                seriesCount: BigInt(series.length),
                profileCount: BigInt(profiles),
              }),
            ],
            queryImpact: create(QueryImpactSchema, {
              totalQueriedSeries: BigInt(series.length),
              deduplicationNeeded: false,
            }),
          });
        }),
    ),
    {
      maxDecompressedBytes: limits.maxQueryBodyBytes,
      maxJsonDepth: limits.maxJsonDepth,
      onDone: (_path, seconds) => ctx.metrics.queryDuration.observe(seconds, { method: 'AnalyzeQuery' }),
    },
  );
}
