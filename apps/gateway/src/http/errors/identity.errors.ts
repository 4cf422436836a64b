import type { IDENTITY_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const IDENTITY_HTTP_ERRORS: Record<(typeof IDENTITY_ERROR_CODES)[number], HttpErrorSpec> = {};
