// The write path's error catalogue (mirrored in docs/errors.md "## Ingest"). Every rejection names
// the limit and the actual value. HTTP statuses follow Grafana Pyroscope: the Connect Push API answers
// validation failures with 400 invalid_argument; /ingest answers them with 422 (compat spec §1.8),
// except a bad `name` or an unknown profile type (400). Sizes are 413, the series limit 429.

import { FormatError } from '@hotpath/core';
import { bodyErrors } from '../body.ts';
import { HotpathError } from '../errors.ts';

/** Which route family is answering: statuses differ for the same code. */
export type IngestApi = 'ingest' | 'push' | 'otlp';

const invalid = (code: string, message: string, details: Record<string, string | number> = {}) =>
  new HotpathError(code, 400, 'invalid_argument', message, details);

export const IngestErrors = {
  bodyTooLarge: bodyErrors.bodyTooLarge,
  decompressedTooLarge: bodyErrors.decompressedTooLarge,
  jsonTooDeep: bodyErrors.jsonTooDeep,
  profileTooLarge: (limit: number, actual: number) =>
    new HotpathError(
      'profile_too_large',
      413,
      'resource_exhausted',
      `profile is ${actual} bytes uncompressed, the limit is ${limit} bytes`,
      {
        limit,
        actual,
      },
    ),
  malformedGzip: bodyErrors.malformedGzip,
  malformedProfile: (why: string, details: Record<string, string | number> = {}) =>
    invalid('malformed_profile', `profile could not be decoded: ${why}`, details),
  malformedBody: (format: string, why: string, details: Record<string, string | number> = {}) =>
    invalid('malformed_body', `${format} body could not be parsed: ${why}`, { format, ...details }),
  malformedMultipart: (why: string) =>
    invalid('malformed_multipart', `multipart body could not be parsed: ${why}`),
  missingProfilePart: () =>
    invalid('missing_profile_part', "multipart body has no file part named 'profile'"),
  unsupportedClient: () =>
    invalid(
      'unsupported_client',
      "multipart part 'prev_profile' (cumulative profiles of old pyroscope-go clients) is not supported; upgrade the client",
    ),
  unsupportedFormat: (format: string) =>
    new HotpathError(
      'unsupported_format',
      415,
      'unimplemented',
      `format '${format}' is not supported by this server`,
    ),
  missingName: () =>
    invalid('missing_name', "query parameter 'name' is required, e.g. name=my-app.cpu{env=prod}"),
  invalidName: (why: string, details: Record<string, string | number> = {}) =>
    invalid('invalid_name', `query parameter 'name' is invalid: ${why}`, details),
  invalidParam: (param: string, value: string, why: string) =>
    invalid('invalid_parameter', `query parameter '${param}'=${JSON.stringify(value)} is invalid: ${why}`, {
      param,
    }),
  unknownProfileType: (suffix: string) =>
    invalid(
      'unknown_profile_type',
      `unknown profile type: ${suffix} (use a suffix such as .cpu, .wall, .alloc_space, .inuse_objects)`,
      { suffix },
    ),
  missingMetricName: () =>
    invalid('missing_metric_name', "series has no '__name__' label (e.g. __name__=process_cpu)"),
  noProfiles: () => invalid('no_profiles', 'no profiles received'),
  unsupportedOtlpVersion: (why: string) =>
    invalid(
      'unsupported_otlp_version',
      `OTLP profiles message is in a layout this server does not read: ${why}; Hotpath reads opentelemetry-proto 1.9 and newer (v1development)`,
    ),
  sampleValueOutOfRange: (what: string, limit: number, actual: number) =>
    invalid(
      'sample_value_out_of_range',
      `${what} is ${actual}, the limit is ±${limit} (a finite integer exact in float64 and int64)`,
      // JSON has no Infinity or NaN: those travel as text.
      { what, limit, actual: Number.isFinite(actual) ? actual : String(actual) },
    ),
  tooManySamples: (limit: number, actual: number) =>
    invalid('too_many_samples', `profile has ${actual} samples, the limit is ${limit}`, { limit, actual }),
  tooManyLabels: (limit: number, actual: number, series: string) =>
    invalid('too_many_labels', `series ${series} has ${actual} label names, the limit is ${limit}`, {
      limit,
      actual,
    }),
  labelNameTooLong: (limit: number, actual: number, name: string) =>
    invalid(
      'label_name_too_long',
      `label name ${JSON.stringify(name.slice(0, 64))}… is ${actual} bytes, the limit is ${limit}`,
      { limit, actual },
    ),
  labelValueTooLong: (limit: number, actual: number, name: string) =>
    invalid(
      'label_value_too_long',
      `value of label ${JSON.stringify(name)} is ${actual} bytes, the limit is ${limit}`,
      { limit, actual },
    ),
  invalidLabelName: (name: string) =>
    invalid('invalid_label_name', `label name ${JSON.stringify(name)} is empty or not valid UTF-8`, { name }),
  duplicateLabelName: (name: string) =>
    invalid('duplicate_label_name', `label name ${JSON.stringify(name)} appears twice`, { name }),
  invalidUtf8: (where: string) => invalid('invalid_utf8', `${where} is not valid UTF-8`),
  emptyServiceName: () => invalid('empty_service_name', "label 'service_name' is empty"),
  profileTooOld: (limitMs: number, timeMs: number, nowMs: number) =>
    invalid(
      'profile_too_old',
      `profile time ${new Date(timeMs).toISOString()} is ${Math.round((nowMs - timeMs) / 1000)} s in the past, the limit is ${limitMs / 1000} s`,
      { limit: limitMs, actual: nowMs - timeMs },
    ),
  profileTooNew: (limitMs: number, timeMs: number, nowMs: number) =>
    invalid(
      'profile_too_new',
      `profile time ${new Date(timeMs).toISOString()} is ${Math.round((timeMs - nowMs) / 1000)} s in the future, the limit is ${limitMs / 1000} s`,
      { limit: limitMs, actual: timeMs - nowMs },
    ),
  seriesLimit: (limit: number, actual: number, tenant: string) =>
    new HotpathError(
      'series_limit',
      429,
      'resource_exhausted',
      `tenant ${tenant} would have ${actual} active series, the limit is ${limit}`,
      { limit, actual },
    ),
  tenantLimit: (limit: number, actual: number, tenant: string) =>
    new HotpathError(
      'tenant_limit',
      429,
      'resource_exhausted',
      `tenant ${JSON.stringify(tenant)} would be tenant ${actual} with active series; the limit is ${limit} tenants`,
      { limit, actual },
    ),
  totalSeriesLimit: (limit: number, actual: number) =>
    new HotpathError(
      'total_series_limit',
      429,
      'resource_exhausted',
      `the write would make ${actual} active series over all tenants; the limit is ${limit}`,
      { limit, actual },
    ),
  commitFailed: (why: string) =>
    new HotpathError('commit_failed', 503, 'unavailable', `the store could not commit the write: ${why}`),
  shuttingDown: () =>
    new HotpathError(
      'shutting_down',
      503,
      'unavailable',
      'the server is shutting down; retry on another instance or later',
    ),
} as const;

/** Codes whose /ingest status stays 400 (bad request metadata); other invalid_argument codes become 422. */
const INGEST_400 = new Set([
  'missing_name',
  'invalid_name',
  'invalid_parameter',
  'unknown_profile_type',
  'tenant_id_invalid',
  'tenant_id_too_long',
]);

/** Converts anything thrown on the write path into a coded HotpathError with the status of `api`. */
export function toIngestError(err: unknown, api: IngestApi): HotpathError | unknown {
  let e = err;
  if (e instanceof FormatError) e = fromFormatError(e);
  if (e instanceof HotpathError && api === 'ingest' && e.httpStatus === 400 && !INGEST_400.has(e.code)) {
    return new HotpathError(e.code, 422, e.connectCode, e.message, e.details);
  }
  return e;
}

function fromFormatError(e: FormatError): HotpathError {
  const details = e.details as Record<string, string | number>;
  if (e.code === 'decompressed_too_large') {
    return IngestErrors.decompressedTooLarge(
      Number(details.limit),
      details.actual === undefined ? undefined : Number(details.actual),
    );
  }
  if (e.code === 'gzip_invalid') return IngestErrors.malformedGzip(e.message);
  if (e.code.includes('utf8'))
    return new HotpathError('invalid_utf8', 400, 'invalid_argument', e.message, {
      format_code: e.code,
      ...details,
    });
  if (e.code.startsWith('pprof'))
    return IngestErrors.malformedProfile(e.message, { format_code: e.code, ...details });
  return IngestErrors.malformedBody(e.code.split('_')[0] ?? 'body', e.message, {
    format_code: e.code,
    ...details,
  });
}
