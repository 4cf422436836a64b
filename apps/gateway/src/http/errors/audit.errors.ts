import type { AUDIT_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const AUDIT_HTTP_ERRORS: Record<(typeof AUDIT_ERROR_CODES)[number], HttpErrorSpec> = {};
