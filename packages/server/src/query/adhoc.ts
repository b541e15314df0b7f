// Connect `adhocprofiles.v1.AdHocProfileService` (Upload, Get, List, Diff): profile files uploaded by
// hand (the Profiles Drilldown app's ad hoc page and Hotpath's own Upload view), kept per tenant in the
// store so that each has an id and a shareable URL (`#adhoc=<id>` in Hotpath's UI).
// Each upload is two documents: 'adhoc_profile' (id, name, upload time: what List reads) and
// 'adhoc_profile_data' (the file as uploaded, base64), parsed again on every Get as Pyroscope does.
// Limits (limits.ts): the file's size, the profiles kept per tenant (the oldest go first) and their age.

import { create } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { FormatError, importProfile, toFlamebearer, toFlamebearerDiff, type Profile } from '@hotpath/core';
import type { FastifyInstance } from 'fastify';
import { requestTenant } from '../auth/hook.ts';
import { InflateBudget, inflateLayers } from '../body.ts';
import { generatedMethod } from '../connect/generated.ts';
import { registerUnary } from '../connect/unary.ts';
import {
  AdHocProfilesDiffRequestSchema,
  AdHocProfilesDiffResponseSchema,
  AdHocProfilesGetRequestSchema,
  AdHocProfilesGetResponseSchema,
  AdHocProfilesListRequestSchema,
  AdHocProfilesListResponseSchema,
  AdHocProfilesProfileMetadataSchema,
  AdHocProfilesUploadRequestSchema,
} from '../gen/adhocprofiles/v1/adhocprofiles_pb.ts';
import type { Limits } from '../limits.ts';
import type { Store } from '../store/types.ts';
import type { DrilldownContext } from './context.ts';
import { drilldownErrors } from './drilldown-errors.ts';
import { queryErrors, resolveMaxNodes } from './errors.ts';
import { metadataOf } from './render.ts';
import { serialiser } from './settings.ts';

export const ADHOC_SERVICE = '/adhocprofiles.v1.AdHocProfileService';
export const ADHOC_KIND = 'adhoc_profile';
export const ADHOC_DATA_KIND = 'adhoc_profile_data';
/** Methods that store something: they need a key that may write (docs/security.md). */
export const ADHOC_WRITES = [`${ADHOC_SERVICE}/Upload`];
const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_NAME_CHARS = 1024;

/** Body limit of Upload: the file at its limit, base64 (4/3) in JSON, plus room for the name. */
export function adhocBodyBytes(limits: Limits): number {
  return Math.ceil((limits.maxAdhocProfileBytes * 4) / 3) + 64 * 1024;
}

interface Meta {
  readonly name: string;
  readonly uploadedAt: number;
}

/** A time-ordered id: 11 chars of ms since epoch (base 36), '-', 16 hex chars of randomness. */
function newId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(11, '0')}-${randomBytes(8).toString('hex')}`;
}

/** The profiles of a file, by the name the API shows (the sample type, or the type id when two share one). */
async function parseFile(name: string, bytes: Uint8Array, limits: Limits): Promise<Map<string, Profile>> {
  let profiles: readonly Profile[];
  try {
    const raw = await inflateLayers(bytes, new InflateBudget(limits.maxDecompressedBodyBytes));
    profiles = importProfile(raw, { filename: name }).profiles;
  } catch (e) {
    if (e instanceof FormatError) throw drilldownErrors.adhocProfileUnreadable(name, e.message);
    throw e;
  }
  if (profiles.length === 0) throw drilldownErrors.adhocProfileUnreadable(name, 'it holds no profile');
  const out = new Map<string, Profile>();
  const sampleTypes = profiles.map((p) => p.type.sampleType);
  for (const p of profiles) {
    const key =
      sampleTypes.filter((t) => t === p.type.sampleType).length === 1 ? p.type.sampleType : p.type.id;
    out.set(out.has(key) ? `${key}#${out.size}` : key, p);
  }
  return out;
}

function pick(id: string, profiles: Map<string, Profile>, type: string | undefined): [string, Profile] {
  if (type === undefined || type === '') return [...profiles][0]!;
  const p = profiles.get(type);
  if (p === undefined) throw drilldownErrors.adhocProfileTypeUnknown(id, type, [...profiles.keys()]);
  return [type, p];
}

function flamebearerProfile(p: Profile, maxNodes: number): string {
  const fb = toFlamebearer(p, { maxNodes });
  return JSON.stringify({
    version: 1,
    flamebearer: { names: fb.names, levels: fb.levels, numTicks: fb.numTicks, maxSelf: fb.maxSelf },
    metadata: metadataOf(p.type),
    timeline: null,
  });
}

export function registerAdhocService(app: FastifyInstance, ctx: DrilldownContext): void {
  const { store, limits } = ctx;
  const serial = serialiser();
  const uploadOptions = { ...ctx.connectOptions, maxDecompressedBytes: adhocBodyBytes(limits) };

  /** Meta and file of an upload; 404 when unknown (or removed by retention). */
  const load = async (tenant: string, id: string): Promise<{ meta: Meta; bytes: Uint8Array }> => {
    if (!ID.test(id)) throw drilldownErrors.adhocIdInvalid(id);
    const [meta, data] = await Promise.all([
      store.getDocument(tenant, ADHOC_KIND, id),
      store.getDocument(tenant, ADHOC_DATA_KIND, id),
    ]);
    if (meta === undefined || data === undefined) throw drilldownErrors.adhocProfileNotFound(id);
    const m = JSON.parse(meta.body) as Meta;
    if (m.uploadedAt < ctx.now() - limits.adhocRetentionMs) throw drilldownErrors.adhocProfileNotFound(id);
    return { meta: m, bytes: Buffer.from(JSON.parse(data.body) as string, 'base64') };
  };

  registerUnary(
    app,
    generatedMethod(
      `${ADHOC_SERVICE}/Upload`,
      AdHocProfilesUploadRequestSchema,
      AdHocProfilesGetResponseSchema,
      async (req, request) => {
        const tenant = requestTenant(request);
        const maxNodes = resolveMaxNodes(
          req.maxNodes === undefined ? undefined : Number(req.maxNodes),
          limits,
        );
        const name = req.name.slice(0, MAX_NAME_CHARS);
        const text = req.profile.replace(/\s+/g, '');
        if (text === '') throw drilldownErrors.adhocProfileEmpty();
        if (!BASE64.test(text)) throw drilldownErrors.adhocProfileNotBase64();
        const size = Math.floor((text.replace(/=+$/, '').length * 3) / 4);
        if (size > limits.maxAdhocProfileBytes)
          throw drilldownErrors.adhocProfileTooLarge(limits.maxAdhocProfileBytes, size);
        const bytes = Buffer.from(text, 'base64');
        const profiles = await parseFile(name, bytes, limits);
        const [type, profile] = pick('', profiles, undefined);
        const uploadedAt = ctx.now();
        const id = newId(uploadedAt);
        await serial(async () => {
          await prune(store, tenant, limits, uploadedAt, limits.maxAdhocProfilesPerTenant - 1);
          // The file first: a meta document always has its data.
          await store.putDocument({
            tenant,
            kind: ADHOC_DATA_KIND,
            id,
            body: JSON.stringify(bytes.toString('base64')),
            updatedMs: uploadedAt,
          });
          await store.putDocument({
            tenant,
            kind: ADHOC_KIND,
            id,
            body: JSON.stringify({ name, uploadedAt } satisfies Meta),
            updatedMs: uploadedAt,
          });
        });
        return create(AdHocProfilesGetResponseSchema, {
          id,
          name,
          uploadedAt: BigInt(uploadedAt),
          profileType: type,
          profileTypes: [...profiles.keys()],
          flamebearerProfile: flamebearerProfile(profile, maxNodes),
        });
      },
    ),
    uploadOptions,
  );

  registerUnary(
    app,
    generatedMethod(
      `${ADHOC_SERVICE}/Get`,
      AdHocProfilesGetRequestSchema,
      AdHocProfilesGetResponseSchema,
      async (req, request) => {
        const maxNodes = resolveMaxNodes(
          req.maxNodes === undefined ? undefined : Number(req.maxNodes),
          limits,
        );
        const { meta, bytes } = await load(requestTenant(request), req.id);
        const profiles = await parseFile(meta.name, bytes, limits);
        const [type, profile] = pick(req.id, profiles, req.profileType);
        return create(AdHocProfilesGetResponseSchema, {
          id: req.id,
          name: meta.name,
          uploadedAt: BigInt(meta.uploadedAt),
          profileType: type,
          profileTypes: [...profiles.keys()],
          flamebearerProfile: flamebearerProfile(profile, maxNodes),
        });
      },
    ),
    ctx.connectOptions,
  );

  registerUnary(
    app,
    generatedMethod(
      `${ADHOC_SERVICE}/List`,
      AdHocProfilesListRequestSchema,
      AdHocProfilesListResponseSchema,
      async (_r, request) => {
        const tenant = requestTenant(request);
        const oldest = ctx.now() - limits.adhocRetentionMs;
        const docs = await store.listDocuments(ADHOC_KIND, tenant);
        const profiles = docs
          .map((d) => ({ id: d.id, ...(JSON.parse(d.body) as Meta) }))
          .filter((m) => m.uploadedAt >= oldest)
          .sort((a, b) => b.uploadedAt - a.uploadedAt || (a.id < b.id ? 1 : -1))
          .map((m) =>
            create(AdHocProfilesProfileMetadataSchema, {
              id: m.id,
              name: m.name,
              uploadedAt: BigInt(m.uploadedAt),
            }),
          );
        return create(AdHocProfilesListResponseSchema, { profiles });
      },
    ),
    ctx.connectOptions,
  );

  registerUnary(
    app,
    generatedMethod(
      `${ADHOC_SERVICE}/Diff`,
      AdHocProfilesDiffRequestSchema,
      AdHocProfilesDiffResponseSchema,
      async (req, request) => {
        const tenant = requestTenant(request);
        const maxNodes = resolveMaxNodes(
          req.maxNodes === undefined ? undefined : Number(req.maxNodes),
          limits,
        );
        const left = await load(tenant, req.leftId);
        const right = await load(tenant, req.rightId);
        const leftProfiles = await parseFile(left.meta.name, left.bytes, limits);
        const rightProfiles = await parseFile(right.meta.name, right.bytes, limits);
        // The types both files have, in the left file's order.
        const common = [...leftProfiles.keys()].filter((t) => rightProfiles.has(t));
        const type = req.profileType ?? common[0] ?? '';
        const [, l] = pick(req.leftId, leftProfiles, type);
        const [, r] = pick(req.rightId, rightProfiles, type);
        if (l.type.id !== r.type.id) throw queryErrors.profileTypeMismatch(l.type.id, r.type.id);
        const fb = toFlamebearerDiff(l, r, { maxNodes });
        const flamebearerProfile = JSON.stringify({
          version: 1,
          flamebearer: { names: fb.names, levels: fb.levels, numTicks: fb.numTicks, maxSelf: fb.maxSelf },
          metadata: metadataOf(l.type, 'double'),
          leftTicks: fb.leftTicks,
          rightTicks: fb.rightTicks,
          timeline: null,
        });
        return create(AdHocProfilesDiffResponseSchema, { profileTypes: common, flamebearerProfile });
      },
    ),
    ctx.connectOptions,
  );
}

/** Removes the tenant's uploads older than the retention, then the oldest until at most `keep` remain. */
async function prune(
  store: Store,
  tenant: string,
  limits: Limits,
  nowMs: number,
  keep: number,
): Promise<void> {
  const docs = (await store.listDocuments(ADHOC_KIND, tenant)).sort((a, b) => a.updatedMs - b.updatedMs);
  const oldest = nowMs - limits.adhocRetentionMs;
  let excess = docs.length - Math.max(0, keep);
  for (const d of docs) {
    if (d.updatedMs >= oldest && excess <= 0) break;
    await store.deleteDocument(tenant, ADHOC_KIND, d.id);
    await store.deleteDocument(tenant, ADHOC_DATA_KIND, d.id);
    excess--;
  }
}
