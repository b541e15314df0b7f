// Tenancy: X-Scope-OrgID picks the tenant (default 'anonymous'); every store call is scoped by it.
// Tenant ids follow Pyroscope/Cortex rules: ≤150 bytes, [A-Za-z0-9!-_.*'()], not '.' or '..'.

import { requestErrors } from './errors.ts';

export const DEFAULT_TENANT = 'anonymous';
export const MAX_TENANT_LENGTH = 150;
const TENANT_CHARS = /^[A-Za-z0-9!\-_.*'()]+$/;

export function tenantFromHeader(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return DEFAULT_TENANT;
  if (value.length > MAX_TENANT_LENGTH) {
    throw requestErrors.tenantIdTooLong(MAX_TENANT_LENGTH, value.length);
  }
  if (!TENANT_CHARS.test(value) || value === '.' || value === '..') {
    throw requestErrors.tenantIdInvalid(value);
  }
  return value;
}
