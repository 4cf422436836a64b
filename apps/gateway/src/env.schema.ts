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
};
