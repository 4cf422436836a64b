import type { COMMON_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const COMMON_HTTP_ERRORS: Record<(typeof COMMON_ERROR_CODES)[number], HttpErrorSpec> = {
  VALIDATION_FAILED: {
    status: 422,
    title: 'Validation error',
    fix: 'Check the error detail for the specific field.',
  },
  RPC_NO_RESPONDERS: {
    status: 503,
    title: 'Service unavailable',
    fix: 'A tengine service is not running or not connected to NATS; check GET /api/v1/status.',
  },
  RPC_TRANSPORT_CLOSED: {
    status: 503,
    title: 'Service unavailable',
    fix: 'The gateway lost its NATS connection; it reconnects on its own. Retry shortly.',
  },
  RPC_TIMEOUT: {
    status: 504,
    title: 'Gateway timeout',
    fix: 'A tengine service did not answer in time; retry, and check its health and load.',
  },
  RPC_BAD_REPLY: {
    status: 502,
    title: 'Bad gateway',
    fix: 'Services of different versions are talking; finish the rollout so all run one version.',
  },
  INTERNAL: {
    status: 500,
    title: 'Internal server error',
    fix: 'Check the service logs for this request id; report it if it persists.',
  },
};
