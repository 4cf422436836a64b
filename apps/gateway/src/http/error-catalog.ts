import type { ErrorCode } from '@tengine/contracts';

import { AUDIT_HTTP_ERRORS } from './errors/audit.errors.js';
import { COMMON_HTTP_ERRORS } from './errors/common.errors.js';
import { EXECUTOR_HTTP_ERRORS } from './errors/executor.errors.js';
import type { HttpErrorSpec } from './errors/http-error-spec.js';
import { IDENTITY_HTTP_ERRORS } from './errors/identity.errors.js';
import { REGISTRY_HTTP_ERRORS } from './errors/registry.errors.js';

export type { HttpErrorSpec } from './errors/http-error-spec.js';

/**
 * The one place where domain error codes become HTTP statuses, one table per service. The type
 * makes it exhaustive: a code without a status does not compile.
 */
const CATALOG: Readonly<Record<ErrorCode, HttpErrorSpec>> = {
  ...COMMON_HTTP_ERRORS,
  ...IDENTITY_HTTP_ERRORS,
  ...REGISTRY_HTTP_ERRORS,
  ...EXECUTOR_HTTP_ERRORS,
  ...AUDIT_HTTP_ERRORS,
};

/** Status, title and fix for a domain error code. */
export function httpErrorFor(code: ErrorCode): HttpErrorSpec {
  return CATALOG[code];
}
