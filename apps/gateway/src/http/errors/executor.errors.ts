import type { EXECUTOR_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const EXECUTOR_HTTP_ERRORS: Record<(typeof EXECUTOR_ERROR_CODES)[number], HttpErrorSpec> =
  {};
