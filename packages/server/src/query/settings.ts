// Connect `settings.v1.SettingsService` (Get/Set/Delete): the Profiles Drilldown app's plugin settings,
// per tenant, kept as store documents of kind 'setting' (one per name; body {"value","modifiedAt"}).
// As in Pyroscope, a Set whose modifiedAt is older than the stored one is refused (409), and a Set
// without modifiedAt is stamped with the server's clock.

import { create } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  DeleteSettingsRequestSchema,
  DeleteSettingsResponseSchema,
  GetSettingsRequestSchema,
  GetSettingsResponseSchema,
  SetSettingsRequestSchema,
  SetSettingsResponseSchema,
  SettingSchema,
  type Setting,
} from '../gen/settings/v1/setting_pb.ts';
import type { DocumentRecord, Store } from '../store/types.ts';
import type { DrilldownContext } from './context.ts';
import { drilldownErrors } from './drilldown-errors.ts';

export const SETTINGS_SERVICE = '/settings.v1.SettingsService';
export const SETTING_KIND = 'setting';
/** Methods that change settings: they need a key that may write (docs/security.md). */
export const SETTINGS_WRITES = [`${SETTINGS_SERVICE}/Set`, `${SETTINGS_SERVICE}/Delete`];

function settingOf(doc: DocumentRecord): Setting {
  const body = JSON.parse(doc.body) as { value: string; modifiedAt: number };
  return create(SettingSchema, { name: doc.id, value: body.value, modifiedAt: BigInt(body.modifiedAt) });
}

export function registerSettingsService(app: FastifyInstance, ctx: DrilldownContext): void {
  const { store, limits } = ctx;
  // One change at a time per process, so a check of the stored modifiedAt and its write do not interleave.
  const serial = serialiser();

  registerUnary(
    app,
    generatedMethod(
      `${SETTINGS_SERVICE}/Get`,
      GetSettingsRequestSchema,
      GetSettingsResponseSchema,
      async (_r, request) => {
        const docs = await store.listDocuments(SETTING_KIND, requestTenant(request));
        return create(GetSettingsResponseSchema, { settings: docs.map(settingOf) });
      },
    ),
    ctx.connectOptions,
  );

  registerUnary(
    app,
    generatedMethod(
      `${SETTINGS_SERVICE}/Set`,
      SetSettingsRequestSchema,
      SetSettingsResponseSchema,
      async (req, request) => {
        const tenant = requestTenant(request);
        const s = req.setting;
        if (s === undefined) throw drilldownErrors.settingMissing();
        if (s.name === '') throw drilldownErrors.settingNameMissing();
        const bytes = Buffer.byteLength(s.name) + Buffer.byteLength(s.value);
        if (bytes > limits.maxSettingBytes)
          throw drilldownErrors.settingTooLarge(limits.maxSettingBytes, bytes);
        const modifiedAt = s.modifiedAt > 0n ? Number(s.modifiedAt) : ctx.now();
        return serial(async () => {
          const stored = await store.getDocument(tenant, SETTING_KIND, s.name);
          if (stored === undefined) {
            const count = (await store.listDocuments(SETTING_KIND, tenant)).length;
            if (count >= limits.maxSettingsPerTenant)
              throw drilldownErrors.tooManySettings(limits.maxSettingsPerTenant);
          } else {
            const storedAt = Number(settingOf(stored).modifiedAt);
            if (storedAt > modifiedAt) throw drilldownErrors.settingStale(s.name, storedAt, modifiedAt);
          }
          await putSetting(store, tenant, s.name, s.value, modifiedAt);
          return create(SetSettingsResponseSchema, {
            setting: create(SettingSchema, { name: s.name, value: s.value, modifiedAt: BigInt(modifiedAt) }),
          });
        });
      },
    ),
    ctx.connectOptions,
  );

  registerUnary(
    app,
    generatedMethod(
      `${SETTINGS_SERVICE}/Delete`,
      DeleteSettingsRequestSchema,
      DeleteSettingsResponseSchema,
      async (req, request) => {
        if (req.name === '') throw drilldownErrors.settingNameMissing();
        const tenant = requestTenant(request);
        await serial(() => store.deleteDocument(tenant, SETTING_KIND, req.name));
        return create(DeleteSettingsResponseSchema, {});
      },
    ),
    ctx.connectOptions,
  );
}

function putSetting(
  store: Store,
  tenant: string,
  name: string,
  value: string,
  modifiedAt: number,
): Promise<void> {
  const body = JSON.stringify({ value, modifiedAt });
  return store.putDocument({ tenant, kind: SETTING_KIND, id: name, body, updatedMs: modifiedAt });
}

/** Runs the functions it is given one after another. */
export function serialiser(): <T>(run: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (run) => {
    const next = tail.then(run, run);
    tail = next.catch(() => undefined);
    return next;
  };
}
