// Request bodies → Uploads (decoded profiles + labels + time), for /ingest (compat spec §1.2-1.7)
// and for Push (§2). No validation of limits here beyond sizes: normalize.ts does the rest.

import {
  decodePprof,
  importFolded,
  importLines,
  importSpeedscope,
  importTree,
  importTrie,
  makeProfileType,
  type ImportedProfiles,
  type LabelPair,
  type Profile,
} from '@hotpath/core';
import { InflateBudget, checkJsonDepth, inflateLayers } from '../body.ts';
import type { Limits } from '../limits.ts';
import { IngestErrors } from './errors.ts';
import { multipartBoundary, parseMultipart } from './multipart.ts';
import type { Upload } from './normalize.ts';
import {
  ingestQueryOf,
  legacyProfileType,
  type IngestQuery,
  parseName,
  parseSampleRate,
  parseTime,
  splitAppSuffix,
} from './params.ts';
import type { PushRequest } from './push.ts';

/** Removes every gzip layer (within the request's budget), then checks the one-profile cap. */
export async function inflateProfile(
  bytes: Uint8Array,
  limits: Limits,
  budget: InflateBudget,
): Promise<Uint8Array> {
  const raw = await inflateLayers(bytes, budget);
  if (raw.length > limits.maxProfileBytes)
    throw IngestErrors.profileTooLarge(limits.maxProfileBytes, raw.length);
  return raw;
}

export async function decodePprofBytes(
  bytes: Uint8Array,
  limits: Limits,
  budget: InflateBudget,
  displayNames?: Record<string, string>,
): Promise<Profile[]> {
  const raw = await inflateProfile(bytes, limits, budget);
  return decodePprof(raw, displayNames === undefined ? {} : { displayNames });
}

/** The format an /ingest request carries (§1.4, first match wins). */
export type IngestFormat =
  'trie' | 'tree' | 'lines' | 'jfr' | 'pprof' | 'speedscope' | 'multipart' | 'folded';

export function ingestFormat(format: string | undefined, contentType: string | undefined): IngestFormat {
  const ct = (contentType ?? '').toLowerCase();
  if (format === 'trie' || ct.startsWith('binary/octet-stream+trie')) return 'trie';
  if (format === 'tree' || ct.startsWith('binary/octet-stream+tree')) return 'tree';
  if (format === 'lines') return 'lines';
  if (format === 'jfr') return 'jfr';
  if (format === 'pprof') return 'pprof';
  if (format === 'speedscope') return 'speedscope';
  if (ct.includes('multipart/form-data')) return 'multipart';
  return 'folded';
}

/** Importers of the legacy text and binary formats (compat spec §1.5), all from core. */
const LEGACY_IMPORTERS: Readonly<Record<string, (bytes: Uint8Array) => ImportedProfiles>> = {
  folded: importFolded,
  lines: importLines,
  trie: importTrie,
  tree: importTree,
  speedscope: importSpeedscope,
};

/** Decodes one /ingest request into Uploads; every gzip layer in it shares one decompression budget. */
export async function decodeIngest(
  query: IngestQuery | Readonly<Record<string, unknown>>,
  contentType: string | undefined,
  body: Uint8Array,
  limits: Limits,
  nowMs: number,
): Promise<Upload[]> {
  const q = ingestQueryOf(query);
  const budget = new InflateBudget(limits.maxDecompressedBodyBytes);
  const name = parseName(q.name);
  const fromMs = parseTime('from', q.from, nowMs);
  if (q.until !== undefined) parseTime('until', q.until, nowMs);
  const spy = q.spyName === undefined || q.spyName === '' ? 'unknown' : q.spyName;
  const hasService = name.labels.some((l) => l.name === 'service_name');
  const format = ingestFormat(q.format, contentType);

  if (format === 'pprof' || format === 'multipart') {
    const labels: LabelPair[] = [...name.labels, { name: 'pyroscope_spy', value: spy }];
    if (!hasService) labels.push({ name: 'service_name', value: name.app });
    let profileBytes: Uint8Array = body;
    let displayNames: Record<string, string> | undefined;
    if (format === 'multipart') {
      const boundary = multipartBoundary(contentType);
      if (boundary === undefined) throw IngestErrors.malformedMultipart('Content-Type has no boundary');
      const files = parseMultipart(body, boundary).filter((p) => p.filename !== undefined);
      if (files.some((p) => p.name === 'prev_profile')) throw IngestErrors.unsupportedClient();
      const profile = files.find((p) => p.name === 'profile');
      if (profile === undefined) throw IngestErrors.missingProfilePart();
      profileBytes = profile.data;
      const config = files.find((p) => p.name === 'sample_type_config');
      if (config !== undefined) displayNames = parseSampleTypeConfig(config.data, limits.maxJsonDepth);
    }
    const profiles = rewriteScriptingNames(
      await decodePprofBytes(profileBytes, limits, budget, displayNames),
      spy,
    );
    return [{ profiles, labels, fallbackTimeMs: fromMs, preferProfileTime: true }];
  }
  if (format === 'jfr') throw IngestErrors.unsupportedFormat('jfr');

  // Legacy formats: the app-name suffix picks the profile type (§1.7).
  const { app, suffix } = splitAppSuffix(name.app);
  const sampleRate = parseSampleRate(q.sampleRate);
  const legacy = legacyProfileType(suffix, sampleRate);
  const labels: LabelPair[] = [...name.labels, { name: 'pyroscope_spy', value: spy }];
  if (hasService) labels.push({ name: 'app_name', value: app });
  else labels.push({ name: 'service_name', value: app });
  const bytes = await inflateProfile(body, limits, budget);
  const importer = LEGACY_IMPORTERS[format];
  if (importer === undefined) throw IngestErrors.unsupportedFormat(format);
  if (format === 'speedscope') checkJsonDepth(bytes, limits.maxJsonDepth, 'speedscope body');
  const imported = importer(bytes);
  if (format === 'speedscope') {
    // speedscope files carry their own unit (time already in ns, or bytes): no sample-rate scaling.
    const profiles = imported.profiles.map((p) => {
      if (p.type.sampleUnit === 'bytes') return { ...p, type: makeProfileType('memory', 'samples', 'bytes') };
      if (p.type.sampleUnit === 'nanoseconds') {
        const t = legacy.type;
        return {
          ...p,
          type: makeProfileType(
            t.name,
            t.name === 'wall' ? 'wall' : 'cpu',
            'nanoseconds',
            'cpu',
            'nanoseconds',
          ),
        };
      }
      return { ...p, type: legacy.type };
    });
    const scale = imported.profiles.every(
      (p) => p.type.sampleUnit === 'count' || p.type.sampleUnit === 'samples',
    )
      ? legacy.scale
      : 1;
    return [{ profiles, labels, fallbackTimeMs: fromMs, preferProfileTime: false, scale }];
  }
  const profiles = imported.profiles.map((p) => ({ ...p, type: legacy.type }));
  return [{ profiles, labels, fallbackTimeMs: fromMs, preferProfileTime: false, scale: legacy.scale }];
}

/**
 * Pyroscope's pprof /ingest rewrites function names of scripting spies (compat spec §1.2): with
 * spyName pyspy, rbspy or scripting every function becomes "<filename> <function name>"; for pyspy
 * not when the filename is an absolute path. All profiles of one pprof keep sharing one frame table.
 */
export function rewriteScriptingNames(profiles: Profile[], spy: string): Profile[] {
  if (spy !== 'pyspy' && spy !== 'rbspy' && spy !== 'scripting') return profiles;
  const rewritten = new Map<Profile['frames'], Profile['frames']>();
  return profiles.map((p) => {
    let frames = rewritten.get(p.frames);
    if (frames === undefined) {
      const f = p.frames;
      const name = f.name.map((n, i) => {
        const file = f.file[i] ?? '';
        if (file === '' || (spy === 'pyspy' && file.startsWith('/'))) return n;
        return `${file} ${n}`;
      });
      frames = { length: f.length, name, file: f.file, line: f.line };
      rewritten.set(p.frames, frames);
    }
    return { ...p, frames };
  });
}

function parseSampleTypeConfig(bytes: Uint8Array, maxJsonDepth: number): Record<string, string> {
  checkJsonDepth(bytes, maxJsonDepth, 'sample_type_config');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw IngestErrors.malformedMultipart(`sample_type_config is not JSON: ${(e as Error).message}`);
  }
  const out: Record<string, string> = {};
  if (json === null || typeof json !== 'object') return out;
  for (const [type, cfg] of Object.entries(json as Record<string, unknown>)) {
    const display = (cfg as Record<string, unknown> | null)?.['display-name'];
    if (typeof display === 'string' && display !== '') out[type] = display;
  }
  return out;
}

/** Decodes the raw profiles of a Push request into Uploads (one per raw sample), all within `budget`. */
export async function decodePush(
  req: PushRequest,
  limits: Limits,
  nowMs: number,
  budget: InflateBudget,
): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const s of req.series) {
    if (!s.labels.some((l) => l.name === '__name__' && l.value !== ''))
      throw IngestErrors.missingMetricName();
    const labels = s.labels.filter((l) => l.name !== '__delta__');
    for (const sample of s.samples) {
      const profiles = await decodePprofBytes(sample.rawProfile, limits, budget);
      uploads.push({ profiles, labels, fallbackTimeMs: nowMs, preferProfileTime: true });
    }
  }
  if (uploads.length === 0) throw IngestErrors.noProfiles();
  return uploads;
}
