import type { ErrorCode } from '@tengine/contracts';

/** How a domain error reaches an HTTP client: status, a short title, and what to do about it. */
export interface HttpErrorSpec {
  readonly status: number;
  readonly title: string;
  readonly fix: string;
}

/**
 * The one place where domain error codes become HTTP statuses. The switch is exhaustive: adding a
 * code without deciding its status does not compile.
 */
export function httpErrorFor(code: ErrorCode): HttpErrorSpec {
  switch (code) {
    case 'VALIDATION_FAILED':
      return {
        status: 422,
        title: 'Validation error',
        fix: 'Check the error detail for the specific field.',
      };
    case 'RPC_NO_RESPONDERS':
      return {
        status: 503,
        title: 'Service unavailable',
        fix: 'A tengine service is not running or not connected to NATS; check GET /api/v1/status.',
      };
    case 'RPC_TRANSPORT_CLOSED':
      return {
        status: 503,
        title: 'Service unavailable',
        fix: 'The gateway lost its NATS connection; it reconnects on its own. Retry shortly.',
      };
    case 'RPC_TIMEOUT':
      return {
        status: 504,
        title: 'Gateway timeout',
        fix: 'A tengine service did not answer in time; retry, and check its health and load.',
      };
    case 'RPC_BAD_REPLY':
      return {
        status: 502,
        title: 'Bad gateway',
        fix: 'Services of different versions are talking; finish the rollout so all run one version.',
      };
    case 'INTERNAL':
      return {
        status: 500,
        title: 'Internal server error',
        fix: 'Check the service logs for this request id; report it if it persists.',
      };
  }
}
