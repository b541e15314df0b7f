// Error catalogue of the Profiles Drilldown services (ad hoc profiles, settings, function tables and
// sandwich, heatmap): docs/errors.md "## Drilldown". Status codes follow Pyroscope's: a bad request is
// 400 invalid_argument, an unknown id 404 not_found, a stale write 409 already_exists.

import { HotpathError } from '../errors.ts';

function bad(code: string, message: string, details: Record<string, string | number | boolean> = {}) {
  return new HotpathError(code, 400, 'invalid_argument', message, details);
}

export const drilldownErrors = {
  adhocProfileTooLarge: (limit: number, actual: number) =>
    bad('adhoc_profile_too_large', `the uploaded profile is ${actual} bytes, the limit is ${limit} bytes`, {
      limit,
      actual,
    }),
  adhocProfileEmpty: () => bad('adhoc_profile_empty', 'profile is required: the file, base64-encoded'),
  adhocProfileNotBase64: () =>
    bad('adhoc_profile_not_base64', 'profile must be base64 (RFC 4648, standard or URL alphabet)'),
  adhocProfileUnreadable: (name: string, reason: string) =>
    bad('adhoc_profile_unreadable', `${JSON.stringify(name)} is not a profile Hotpath can read: ${reason}`, {
      name,
    }),
  adhocIdInvalid: (id: string) =>
    bad('adhoc_id_invalid', `id ${JSON.stringify(id)} is invalid: 1 to 64 of [A-Za-z0-9_.-]`, { actual: id }),
  adhocProfileNotFound: (id: string) =>
    new HotpathError('adhoc_profile_not_found', 404, 'not_found', `ad hoc profile ${id} not found`, { id }),
  adhocProfileTypeUnknown: (id: string, type: string, known: readonly string[]) =>
    bad(
      'adhoc_profile_type_unknown',
      `profile ${id} has no profile type ${JSON.stringify(type)}; it has ${known.join(', ')}`,
      {
        actual: type,
      },
    ),
  settingMissing: () => bad('setting_missing', 'setting is required: {name, value}'),
  settingNameMissing: () => bad('setting_name_missing', 'the setting name is required'),
  settingTooLarge: (limit: number, actual: number) =>
    bad('setting_too_large', `the setting is ${actual} bytes (name + value), the limit is ${limit} bytes`, {
      limit,
      actual,
    }),
  tooManySettings: (limit: number) =>
    new HotpathError(
      'too_many_settings',
      429,
      'resource_exhausted',
      `the tenant has ${limit} settings, the limit`,
      {
        limit,
      },
    ),
  settingStale: (name: string, storedMs: number, givenMs: number) =>
    new HotpathError(
      'setting_stale',
      409,
      'already_exists',
      `setting ${JSON.stringify(name)} was modified at ${storedMs}, after this write's modifiedAt ${givenMs}`,
      { name, stored: storedMs, actual: givenMs },
    ),
  invalidHeatmapQueryType: (actual: number) =>
    bad(
      'invalid_heatmap_query_type',
      `queryType ${actual} is not UNSPECIFIED (0), INDIVIDUAL (1) or SPAN (2)`,
      {
        actual,
      },
    ),
  missingSandwichFunction: () =>
    bad('missing_sandwich_function', 'sandwichFunction is required with format PROFILE_FORMAT_SANDWICH'),
};
