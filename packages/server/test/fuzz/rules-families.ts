// Fuzzed requests of settings.v1.RecordingRulesService (Get/List/Upsert/Delete) in binary proto and
// JSON: mostly valid rules (some select the fuzz servers' known data, some call a known function),
// then damaged like every other Connect family.
import { gzipSync } from 'node:zlib';
import { ProtoWriter } from '../../src/connect/wire.ts';
import { RULES_METHODS, RULES_SERVICE } from '../../src/rules/service.ts';
import { damage, KNOWN_SERVICE, tenantHeader } from './families.ts';
import {
  chance,
  int,
  maybeEncode,
  ODD_CONTENT_TYPES,
  pick,
  printJson,
  type Family,
  type Rng,
} from './harness.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const IDS = ['', 'abc', 'KnownRule', 'a'.repeat(65), 'x1', ' abc ', 'é'];
const METRIC_NAMES = ['fuzz_cpu', 'fuzz:serve_total', '', '1bad', 'hotpath_x', '__x', 'a'.repeat(300), 'a-b'];
const MATCHERS = [
  `{__profile_type__="${CPU}"}`,
  `{ __profile_type__="${CPU}"}`,
  `{service_name="${KNOWN_SERVICE}"}`,
  '{service_name=~"fuzz-.*"}',
  '{__profile_type__=~".*"}',
  '{__profile_type__="memory:inuse_space:bytes:space:bytes"}',
  '{service_name=~"["}',
  '{',
  '',
];
const LABELS = ['service_name', 'env', '__name__', 'a-b', '', 'profiles_rule_id', 'x'.repeat(300)];
const FUNCTIONS = ['parse', 'serve', 'main', '', 'nope', 'x'.repeat(70_000)];

interface Rule {
  id: string;
  metricName: string;
  matchers: string[];
  groupBy: string[];
  externalLabels: { name: string; value: string }[];
  generation: number;
  functionName: string | undefined;
  metricType: number;
}

function ruleOf(r: Rng): Rule {
  const valid = chance(r, 0.6);
  return {
    id: chance(r, 0.6) ? '' : pick(r, IDS),
    metricName: valid ? 'fuzz_cpu' : pick(r, METRIC_NAMES),
    matchers: valid
      ? [`{__profile_type__="${CPU}"}`, ...(chance(r, 0.5) ? [`{service_name="${KNOWN_SERVICE}"}`] : [])]
      : Array.from({ length: int(r, 4) }, () => pick(r, MATCHERS)),
    groupBy: chance(r, 0.5) ? [] : [pick(r, LABELS)],
    externalLabels: chance(r, 0.8) ? [] : [{ name: pick(r, LABELS), value: pick(r, ['v', '', '"\n\\']) }],
    generation: chance(r, 0.8) ? 0 : pick(r, [1, 2, -1, 2 ** 53]),
    functionName: chance(r, 0.5) ? undefined : pick(r, FUNCTIONS),
    metricType: chance(r, 0.9) ? 0 : pick(r, [1, -1, 2 ** 31]),
  };
}

function upsert(r: Rng): { json: Record<string, unknown>; binary: Uint8Array } {
  const rule = ruleOf(r);
  const w = new ProtoWriter().string(1, rule.id).string(2, rule.metricName);
  for (const m of rule.matchers) w.string(3, m);
  for (const g of rule.groupBy) w.string(4, g);
  for (const l of rule.externalLabels) w.message(5, (lw) => lw.string(1, l.name).string(2, l.value));
  w.int64(6, rule.generation);
  if (rule.functionName !== undefined)
    w.message(7, (f) => f.message(1, (n) => n.string(1, rule.functionName!).int64(2, rule.metricType)));
  return {
    json: {
      id: rule.id,
      metricName: rule.metricName,
      matchers: rule.matchers,
      groupBy: rule.groupBy,
      externalLabels: rule.externalLabels,
      generation: String(rule.generation),
      // As the Drilldown app sends it: protobuf-es objects with their $typeName keys.
      ...(rule.functionName === undefined
        ? {}
        : {
            stacktraceFilter: {
              $typeName: 'settings.v1.StacktraceFilter',
              functionName: { functionName: rule.functionName, metricType: rule.metricType },
            },
          }),
    },
    binary: w.finish(),
  };
}

function byId(r: Rng): { json: Record<string, unknown>; binary: Uint8Array } {
  const id = pick(r, IDS);
  return { json: { id }, binary: new ProtoWriter().string(1, id).finish() };
}

const REQUESTS: Record<
  (typeof RULES_METHODS)[number],
  (r: Rng) => { json: Record<string, unknown>; binary: Uint8Array }
> = {
  GetRecordingRule: byId,
  ListRecordingRules: () => ({ json: {}, binary: new Uint8Array(0) }),
  UpsertRecordingRule: upsert,
  DeleteRecordingRule: byId,
};

function rulesFamily(method: (typeof RULES_METHODS)[number], encoding: 'json' | 'proto'): Family {
  return {
    name: `rules-${method}-${encoding}`,
    generate(r) {
      const req = REQUESTS[method](r);
      let body =
        encoding === 'json'
          ? damage(r, Buffer.from(printJson(req.json as never)), true)
          : damage(r, Buffer.from(req.binary), false);
      const headers: Record<string, string> = {
        'content-type': encoding === 'json' ? 'application/json' : 'application/proto',
        ...tenantHeader(r),
      };
      if (chance(r, 0.1)) {
        headers['content-encoding'] = 'gzip';
        body = maybeEncode(r, gzipSync(body));
      }
      if (chance(r, 0.05)) headers['content-type'] = pick(r, ODD_CONTENT_TYPES);
      const verb = chance(r, 0.03) ? pick(r, ['GET', 'PUT', 'DELETE']) : 'POST';
      return {
        method: verb,
        url: `${RULES_SERVICE}/${method}`,
        headers,
        body: verb === 'GET' ? undefined : body,
      };
    },
  };
}

export const rulesFamilies: Family[] = RULES_METHODS.flatMap((m) => [
  rulesFamily(m, 'proto'),
  rulesFamily(m, 'json'),
]);
