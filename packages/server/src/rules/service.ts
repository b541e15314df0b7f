// Connect `settings.v1.RecordingRulesService` (Get/List/Upsert/Delete), as Grafana's Profiles
// Drilldown app calls it. Rules are kept per tenant as store documents of kind 'recording_rule',
// loaded into the write path's RuleRecorder at start and every RULES_RELOAD_MS. Registered inside
// the read scope; Upsert and Delete also need an admin key when auth is on.

import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { registerUnary, type UnaryMethod } from '../connect/unary.ts';
import { generatedMethod } from '../connect/generated.ts';
import {
  DeleteRecordingRuleRequestSchema,
  DeleteRecordingRuleResponseSchema,
  GetRecordingRuleRequestSchema,
  GetRecordingRuleResponseSchema,
  ListRecordingRulesRequestSchema,
  ListRecordingRulesResponseSchema,
  UpsertRecordingRuleRequestSchema,
  UpsertRecordingRuleResponseSchema,
  type RecordingRule,
} from '../gen/settings/v1/recording_rules_pb.ts';
import { requestTenant } from '../auth/hook.ts';
import type { QueryContext } from '../query/context.ts';
import type { Store } from '../store/types.ts';
import type { RuleRecorder } from './recorder.ts';
import {
  checkRuleId,
  newRuleId,
  ruleErrors,
  ruleFromJson,
  ruleFromUpsert,
  ruleToJson,
  RULE_KIND,
} from './rule.ts';

export const RULES_SERVICE = '/settings.v1.RecordingRulesService';
export const RULES_METHODS = [
  'GetRecordingRule',
  'ListRecordingRules',
  'UpsertRecordingRule',
  'DeleteRecordingRule',
] as const;
const ADMIN_METHODS = new Set([
  `${RULES_SERVICE}/UpsertRecordingRule`,
  `${RULES_SERVICE}/DeleteRecordingRule`,
]);

/** How often a server reads the rules again, so rules changed through another replica apply here too. */
export const RULES_RELOAD_MS = 10_000;

/** Makes the recorder's rules the stored ones (unreadable documents are logged and skipped). */
export async function syncRecordingRules(
  store: Store,
  rules: RuleRecorder,
  warn: (message: string) => void = () => undefined,
): Promise<void> {
  await rules.exclusive(async () => {
    const all = [];
    for (const doc of await store.listDocuments(RULE_KIND)) {
      try {
        all.push({ tenant: doc.tenant, rule: ruleFromJson(doc.body) });
      } catch (e) {
        warn(`recording rule ${doc.tenant}/${doc.id} not loaded: ${(e as Error).message}`);
      }
    }
    rules.replaceAll(all);
  });
}

/** Loads the rules now (at start), then every RULES_RELOAD_MS until the app closes. */
export async function keepRecordingRulesLoaded(
  app: FastifyInstance,
  store: Store,
  rules: RuleRecorder,
): Promise<void> {
  const warn = (m: string) => app.log.warn(m);
  // A store that cannot list documents yet (a ClickHouse cluster whose other nodes no replica has
  // migrated yet) must not stop the server: the reload below tries again.
  await syncRecordingRules(store, rules, warn).catch((e: unknown) =>
    warn(`recording rules not loaded at start: ${(e as Error).message}`),
  );
  const timer = setInterval(() => {
    syncRecordingRules(store, rules, warn).catch((e: unknown) =>
      warn(`recording rules not reloaded: ${(e as Error).message}`),
    );
  }, RULES_RELOAD_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

/** The tenant's stored rules by id (the store is the truth; the recorder may be one reload behind). */
async function storedRules(store: Store, tenant: string): Promise<Map<string, RecordingRule>> {
  const out = new Map<string, RecordingRule>();
  for (const doc of await store.listDocuments(RULE_KIND, tenant)) {
    try {
      out.set(doc.id, ruleFromJson(doc.body));
    } catch {
      // unreadable: skipped, as syncRecordingRules does (and logs)
    }
  }
  return out;
}

/** The tenant's stored rule of this id (SelectSeries answers a rule's series with it); rule_not_found else. */
export async function storedRule(store: Store, tenant: string, id: string): Promise<RecordingRule> {
  const checked = checkRuleId(id);
  const doc = await store.getDocument(tenant, RULE_KIND, checked);
  try {
    if (doc !== undefined) return ruleFromJson(doc.body);
  } catch {
    // unreadable: absent, as storedRules has it
  }
  throw ruleErrors.notFound(checked);
}

/** A method of the service over its generated messages (coded decoding errors, unknown JSON fields ignored). */
function method<Req extends DescMessage, Res extends DescMessage>(
  name: (typeof RULES_METHODS)[number],
  req: Req,
  res: Res,
  handle: UnaryMethod<MessageShape<Req>, MessageShape<Res>>['handle'],
): UnaryMethod<MessageShape<Req>, MessageShape<Res>> {
  return generatedMethod(`${RULES_SERVICE}/${name}`, req, res, handle);
}

export function registerRecordingRulesService(app: FastifyInstance, ctx: QueryContext): void {
  const store = ctx.deps.store;
  const rules = app.hotpathWritePath.rules;
  const adminGuard = app.hotpathAuth.guard('admin');
  app.addHook('onRoute', (route) => {
    if (!ADMIN_METHODS.has(route.url)) return;
    const own =
      route.onRequest === undefined
        ? []
        : Array.isArray(route.onRequest)
          ? route.onRequest
          : [route.onRequest];
    route.onRequest = [...own, adminGuard];
  });
  const opts = {
    maxDecompressedBytes: ctx.limits.maxQueryBodyBytes,
    maxJsonDepth: ctx.limits.maxJsonDepth,
    onDone: (path: string, seconds: number, status: number) =>
      ctx.metrics.queryDuration.observe(seconds, { method: path, status: String(status) }),
  };

  registerUnary(
    app,
    method(
      'GetRecordingRule',
      GetRecordingRuleRequestSchema,
      GetRecordingRuleResponseSchema,
      async (req, request) => {
        const rule = await storedRule(store, requestTenant(request), req.id);
        return create(GetRecordingRuleResponseSchema, { rule });
      },
    ),
    opts,
  );
  registerUnary(
    app,
    method(
      'ListRecordingRules',
      ListRecordingRulesRequestSchema,
      ListRecordingRulesResponseSchema,
      async (_req, request) =>
        create(ListRecordingRulesResponseSchema, {
          rules: [...(await storedRules(store, requestTenant(request))).values()],
        }),
    ),
    opts,
  );
  registerUnary(
    app,
    method(
      'UpsertRecordingRule',
      UpsertRecordingRuleRequestSchema,
      UpsertRecordingRuleResponseSchema,
      async (req, request) => {
        const tenant = requestTenant(request);
        const rule = ruleFromUpsert(req, ctx.limits.maxSymbolLength);
        const id = req.id.trim() === '' ? newRuleId() : checkRuleId(req.id);
        return rules.exclusive(async () => {
          const stored = await storedRules(store, tenant);
          const existing = stored.get(id);
          if (existing === undefined && stored.size >= ctx.limits.maxRecordingRulesPerTenant)
            throw ruleErrors.tooMany(ctx.limits.maxRecordingRulesPerTenant);
          // A replacement names the generation it was made from (Pyroscope's optimistic concurrency).
          if (existing !== undefined && req.generation !== existing.generation)
            throw ruleErrors.conflict(id, Number(req.generation), Number(existing.generation));
          rule.id = id;
          rule.generation = existing === undefined ? 1n : existing.generation + 1n;
          await store.putDocument({
            tenant,
            kind: RULE_KIND,
            id,
            body: ruleToJson(rule),
            updatedMs: ctx.now(),
          });
          rules.set(tenant, rule);
          return create(UpsertRecordingRuleResponseSchema, { rule });
        });
      },
    ),
    opts,
  );
  registerUnary(
    app,
    method(
      'DeleteRecordingRule',
      DeleteRecordingRuleRequestSchema,
      DeleteRecordingRuleResponseSchema,
      async (req, request) => {
        const tenant = requestTenant(request);
        const id = checkRuleId(req.id);
        return rules.exclusive(async () => {
          if (!(await store.deleteDocument(tenant, RULE_KIND, id))) throw ruleErrors.notFound(id);
          rules.delete(tenant, id);
          return create(DeleteRecordingRuleResponseSchema);
        });
      },
    ),
    opts,
  );
}
