// /ingest query parameters: the `name` label-set grammar (compat spec §1.3), times in
// s/ms/µs/ns or `now-3h` (§4.6), and the legacy app-name suffix → profile type table (§1.7).

import { makeProfileType, type LabelPair, type ProfileType } from '@hotpath/core';
import { parseAttimeMs } from '../attime.ts';
import { IngestErrors } from './errors.ts';

/** The /ingest query string as received (every value a string). */
export interface IngestQuery {
  readonly name?: string;
  readonly from?: string;
  readonly until?: string;
  readonly format?: string;
  readonly sampleRate?: string;
  readonly spyName?: string;
  readonly units?: string;
  readonly aggregationType?: string;
}

export interface ParsedName {
  /** The text before `{`, trimmed. */
  readonly app: string;
  /** Pairs from `{k=v,...}` in order; `__*` keys other than `__session_id__` already dropped. */
  readonly labels: readonly LabelPair[];
}

const APP_CHARS = /^[a-zA-Z0-9_.\-/]+$/;
const KEY_CHARS = /^[a-zA-Z0-9_.]+$/;

/** Parses `APP{k1=v1,k2=v2}` (no quoting or escaping; text after `}` ignored). */
export function parseName(name: string | undefined): ParsedName {
  if (name === undefined || name.trim() === '') throw IngestErrors.missingName();
  const brace = name.indexOf('{');
  const app = (brace === -1 ? name : name.slice(0, brace)).trim();
  if (app === '') throw IngestErrors.missingName();
  if (!APP_CHARS.test(app))
    throw IngestErrors.invalidName(
      `application name ${JSON.stringify(app)} has characters outside [a-zA-Z0-9_.-/]`,
    );
  const labels: LabelPair[] = [];
  if (brace !== -1) {
    const close = name.indexOf('}', brace);
    if (close === -1) throw IngestErrors.invalidName("'{' is not closed by '}'");
    const body = name.slice(brace + 1, close);
    if (body.trim() !== '') {
      for (const part of body.split(',')) {
        const eq = part.indexOf('=');
        if (eq === -1) throw IngestErrors.invalidName(`label ${JSON.stringify(part.trim())} has no '='`);
        const key = part.slice(0, eq).trim();
        const value = part.slice(eq + 1).trim();
        if (!KEY_CHARS.test(key))
          throw IngestErrors.invalidName(
            `label key ${JSON.stringify(key)} is empty or has characters outside [a-zA-Z0-9_.]`,
          );
        if (key === '__name__') throw IngestErrors.invalidName("label key '__name__' is reserved");
        if (key.startsWith('__') && key !== '__session_id__') continue;
        labels.push({ name: key, value });
      }
    }
  }
  return { app, labels };
}

/** The /ingest query parameters; each may be given once (a repeated one is a 400, not a guess). */
const INGEST_PARAMS = [
  'name',
  'from',
  'until',
  'format',
  'sampleRate',
  'spyName',
  'units',
  'aggregationType',
] as const;

/** Fastify's parsed query string as IngestQuery: a repeated parameter (`name=a&name=b`) is invalid_parameter. */
export function ingestQueryOf(query: unknown): IngestQuery {
  const q = (query ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const param of INGEST_PARAMS) {
    const v = q[param];
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      const values = Array.isArray(v) ? v.map(String) : [String(v)];
      throw IngestErrors.invalidParam(param, values.join(','), `given ${values.length} times; give it once`);
    }
    out[param] = v;
  }
  return out;
}

/** `from`/`until` (attime, §4.6) in ms since epoch, fractional for µs/ns input; absent or empty → now. */
export function parseTime(param: string, value: string | undefined, nowMs: number): number {
  if (value === undefined || value === '') return nowMs;
  const t = parseAttimeMs(value, nowMs);
  if ('reason' in t) throw IngestErrors.invalidParam(param, value, t.reason);
  return t.ms;
}

/** `sampleRate`: an integer ≥ 0; invalid, negative or above 2^53 values fall back to the default 100 (§1.2). */
export function parseSampleRate(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value.trim())) return 100;
  const n = Number(value.trim());
  // A rate beyond 2^53 is not an integer we can hold: as invalid as text (it would scale values to 0).
  return Number.isSafeInteger(n) ? n : 100;
}

export interface LegacyType {
  readonly type: ProfileType;
  /** Multiply sample counts by this (1e9/sampleRate for cpu/wall with a sample rate, else 1). */
  readonly scale: number;
}

/** Profile type of a legacy (non-pprof) upload from the app-name suffix after the last '.' (§1.7). */
export function legacyProfileType(suffix: string, sampleRate: number): LegacyType {
  const timed = (name: string, sampleType: string): LegacyType =>
    sampleRate !== 0
      ? {
          type: makeProfileType(name, sampleType, 'nanoseconds', 'cpu', 'nanoseconds'),
          scale: 1e9 / sampleRate,
        }
      : { type: makeProfileType(name, 'samples', 'count'), scale: 1 };
  const plain = (name: string, sampleType: string, unit: string): LegacyType => ({
    type: makeProfileType(name, sampleType, unit),
    scale: 1,
  });
  switch (suffix) {
    case 'cpu':
    case 'itimer':
      return timed('process_cpu', 'cpu');
    case 'wall':
    case 'seconds':
    case 'nanoseconds':
    case 'microseconds':
    case 'milliseconds':
      return timed('wall', 'wall');
    case 'inuse_objects':
    case 'alloc_objects':
      return plain('memory', suffix, 'count');
    case 'inuse_space':
    case 'alloc_space':
      return plain('memory', suffix, 'bytes');
    case 'goroutines':
      return plain('goroutine', 'goroutines', 'count');
    case 'mutex_count':
      return plain('mutex', 'contentions', 'count');
    case 'mutex_duration':
      return plain('mutex', 'delay', 'nanoseconds');
    case 'block_count':
    case 'lock_count':
      return plain('block', 'contentions', 'count');
    case 'block_duration':
    case 'lock_duration':
      return plain('block', 'delay', 'nanoseconds');
    case 'alloc_in_new_tlab_objects':
    case 'alloc_outside_tlab_objects':
      return plain('memory', suffix, 'count');
    case 'alloc_in_new_tlab_bytes':
    case 'alloc_outside_tlab_bytes':
      return plain('memory', suffix, 'bytes');
    case 'live':
      return plain('memory', 'live', 'count');
    case 'exceptions':
      return plain('exceptions', 'samples', 'count');
    case 'bytes':
      return plain('memory', 'samples', 'bytes');
    default:
      throw IngestErrors.unknownProfileType(suffix);
  }
}

/** Splits `my.app.cpu` into app `my.app` and suffix `cpu`; no dot → suffix `cpu`. */
export function splitAppSuffix(app: string): { app: string; suffix: string } {
  const dot = app.lastIndexOf('.');
  if (dot === -1) return { app, suffix: 'cpu' };
  return { app: app.slice(0, dot), suffix: app.slice(dot + 1) };
}
