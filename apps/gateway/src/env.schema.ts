import { z } from 'zod';

import { COMMON_ENV, describeVar, portVar } from '@tengine/config';

const { DATABASE_URL: _database, MIGRATIONS_RUN: _migrations, ...MESSAGING_ENV } = COMMON_ENV;

/** Every variable the gateway reads: it owns no tables, so no database settings. */
export const GATEWAY_ENV = {
  ...MESSAGING_ENV,
  PORT: portVar(
    3000,
    'Port of the public HTTP server: MCP endpoint, management API, health, metrics.',
  ),
  HOST: describeVar(z.string().default('0.0.0.0'), {
    description: 'Interface the HTTP server binds.',
  }),
  TENGINE_MCP_ALLOWED_ORIGINS: describeVar(
    z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    {
      description:
        'Browser origins allowed to call /mcp (comma-separated, e.g. http://localhost:6274). Requests without Origin are always allowed; others get 403.',
    },
  ),
  MCP_MAX_STREAMS: describeVar(z.coerce.number().int().min(0).default(10_000), {
    description: 'Most open MCP GET (SSE) streams per gateway replica.',
  }),
  MCP_PRINCIPAL_CONCURRENCY: describeVar(z.coerce.number().int().min(1).default(64), {
    description:
      'Most concurrent tool calls per credential (member) on one replica; beyond: 429 with Retry-After.',
  }),
  MCP_PROJECT_CONCURRENCY: describeVar(z.coerce.number().int().min(1).default(512), {
    description:
      'Most concurrent tool calls per project on one replica; beyond: 429 with Retry-After.',
  }),
  HTTP_BODY_LIMIT_BYTES: describeVar(
    z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    { description: 'Largest request body accepted (413 beyond).' },
  ),
};
