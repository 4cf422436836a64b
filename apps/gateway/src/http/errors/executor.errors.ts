import { EXECUTOR_ERRORS, type EXECUTOR_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  403: 'Forbidden',
  409: 'Conflict',
  422: 'Unprocessable entity',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

type ExecutorErrorCode = (typeof EXECUTOR_ERROR_CODES)[number];

function spec(code: ExecutorErrorCode): HttpErrorSpec {
  const { status, fix } = EXECUTOR_ERRORS[code];
  return { status, title: TITLES[status] ?? 'Error', fix };
}

/**
 * Derived from the executor's own table (`EXECUTOR_ERRORS`: the reference's statuses and fixes),
 * entry by entry so the compiler still insists on every code.
 */
export const EXECUTOR_HTTP_ERRORS: Record<ExecutorErrorCode, HttpErrorSpec> = {
  EXECUTOR_UPSTREAM_TIMEOUT: spec('EXECUTOR_UPSTREAM_TIMEOUT'),
  EXECUTOR_UPSTREAM_NON_2XX: spec('EXECUTOR_UPSTREAM_NON_2XX'),
  EXECUTOR_UPSTREAM_REDIRECT: spec('EXECUTOR_UPSTREAM_REDIRECT'),
  EXECUTOR_UPSTREAM_CONNECTION_ERROR: spec('EXECUTOR_UPSTREAM_CONNECTION_ERROR'),
  EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE: spec('EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE'),
  EXECUTOR_SECRET_DECRYPT_FAILED: spec('EXECUTOR_SECRET_DECRYPT_FAILED'),
  EXECUTOR_EGRESS_DENIED: spec('EXECUTOR_EGRESS_DENIED'),
  EXECUTOR_IDEMPOTENCY_IN_PROGRESS: spec('EXECUTOR_IDEMPOTENCY_IN_PROGRESS'),
  EXECUTOR_IDEMPOTENCY_KEY_REUSED: spec('EXECUTOR_IDEMPOTENCY_KEY_REUSED'),
  EXECUTOR_RUN_INTERRUPTED: spec('EXECUTOR_RUN_INTERRUPTED'),
  EXECUTOR_TOOL_UNAVAILABLE: spec('EXECUTOR_TOOL_UNAVAILABLE'),
  EXECUTOR_MEMBER_REQUIRED: spec('EXECUTOR_MEMBER_REQUIRED'),
  EXECUTOR_RESERVED_VARIABLE: spec('EXECUTOR_RESERVED_VARIABLE'),
  EXECUTOR_RENDER_FAILED: spec('EXECUTOR_RENDER_FAILED'),
  EXECUTOR_EXECUTION_FAILED: spec('EXECUTOR_EXECUTION_FAILED'),
  EXECUTOR_RUN_NOT_RECORDED: spec('EXECUTOR_RUN_NOT_RECORDED'),
  EXECUTOR_REGISTRY_UNAVAILABLE: spec('EXECUTOR_REGISTRY_UNAVAILABLE'),
};
