import type { REGISTRY_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const REGISTRY_HTTP_ERRORS: Record<(typeof REGISTRY_ERROR_CODES)[number], HttpErrorSpec> = {
  REGISTRY_PROJECT_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: 'Check the project id; a credential only sees its own project.',
  },
  REGISTRY_INTEGRATION_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: "Check the integration id; list your project's integrations with GET /api/v1/integrations.",
  },
};
