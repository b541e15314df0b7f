// Connect `capabilities.v1.FeatureFlagsService/GetFeatureFlags`: which optional Pyroscope features
// Hotpath has, under Pyroscope's flag names (pkg/featureflags), so the Profiles Drilldown app turns on
// only what works. Every flag is listed, disabled ones too, sorted by name, as Pyroscope answers.

import { create } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  FeatureFlagSchema,
  GetFeatureFlagsRequestSchema,
  GetFeatureFlagsResponseSchema,
} from '../gen/capabilities/v1/feature_flags_pb.ts';
import type { DrilldownContext } from './context.ts';

export const FEATURE_FLAGS_PATH = '/capabilities.v1.FeatureFlagsService/GetFeatureFlags';

/** Hotpath's answers; `enabled` says whether Hotpath serves the feature today. */
export const FEATURE_FLAGS: readonly { name: string; enabled: boolean; description: string }[] = [
  {
    name: 'functionProjections',
    enabled: false,
    description:
      'PROFILE_FORMAT_FUNCTION_TREE projections (the FUNCTIONS table and SANDWICH formats are served without it)',
  },
  {
    name: 'pyroscopeRuler',
    enabled: true,
    description: 'recording rules (settings.v1.RecordingRulesService) exported on /metrics',
  },
  { name: 'pyroscopeRulerFunctions', enabled: true, description: 'recording rules may filter on a function' },
  {
    name: 'utf8LabelNames',
    enabled: true,
    description: 'label names may be any UTF-8 (pushed as is; selectors quote them: {"service.name"="x"})',
  },
  {
    name: 'v2StorageLayer',
    enabled: false,
    description: "Pyroscope's v2 storage layer (Hotpath has its own)",
  },
];

export function registerFeatureFlagsService(app: FastifyInstance, ctx: DrilldownContext): void {
  registerUnary(
    app,
    generatedMethod(
      FEATURE_FLAGS_PATH,
      GetFeatureFlagsRequestSchema,
      GetFeatureFlagsResponseSchema,
      async () =>
        create(GetFeatureFlagsResponseSchema, {
          featureFlags: FEATURE_FLAGS.map((f) => create(FeatureFlagSchema, f)),
        }),
    ),
    ctx.connectOptions,
  );
}
