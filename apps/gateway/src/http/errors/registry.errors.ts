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
  REGISTRY_TOOL_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: "Check the tool id or name; list your project's tools with GET /api/v1/custom-tools.",
  },
  REGISTRY_TOOL_INVALID: {
    status: 400,
    title: 'Bad request',
    fix: 'Correct the tool definition as the detail says (see the Tool Registration Errors reference).',
  },
  REGISTRY_TOOL_NAME_TAKEN: {
    status: 409,
    title: 'Conflict',
    fix: 'Tool names are unique per project: choose another name or update the existing tool.',
  },
  REGISTRY_TOOL_VERSION_CONFLICT: {
    status: 409,
    title: 'Conflict',
    fix: 'The tool changed since you read it: fetch it again, reapply your change and send the new expected_version.',
  },
  REGISTRY_TOOL_LIMIT_REACHED: {
    status: 409,
    title: 'Conflict',
    fix: 'The project has the maximum number of tools: delete tools you no longer need.',
  },
  REGISTRY_SECRET_DECRYPT_FAILED: {
    status: 500,
    title: 'Internal server error',
    fix: 'Re-register the tool with a fresh secret value.',
  },
  REGISTRY_SECRET_KEYS_NOT_CONFIGURED: {
    status: 500,
    title: 'Internal server error',
    fix: 'The operator must set TENGINE_SECRET_KEYS on the registry before tools can store secrets.',
  },
  REGISTRY_OPENAPI_INVALID: {
    status: 400,
    title: 'Bad request',
    fix: 'Send a valid OpenAPI 3.0 or 3.1 document (JSON or YAML) whose $refs point inside the document.',
  },
};
