import type { AUDIT_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

export const AUDIT_HTTP_ERRORS: Record<(typeof AUDIT_ERROR_CODES)[number], HttpErrorSpec> = {
  AUDIT_RUN_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: "Check the run id (the _meta run id of the tool result); a credential only sees its own project's runs, and runs older than the retention period are deleted.",
  },
  AUDIT_CURSOR_INVALID: {
    status: 400,
    title: 'Bad request',
    fix: 'Pass the next_cursor of the previous page unchanged, with the same filters; start over without cursor otherwise.',
  },
  AUDIT_TIME_RANGE_INVALID: {
    status: 400,
    title: 'Bad request',
    fix: 'Send from before to (ISO 8601 with an offset), at most 93 days apart.',
  },
};
