import { z } from 'zod';

import { COMMON_ENV, describeVar, portVar } from '@tengine/config';

/** Every variable the gateway reads. */
export const GATEWAY_ENV = {
  ...COMMON_ENV,
  PORT: portVar(
    3000,
    'Port of the public HTTP server: MCP endpoint, management API, health, metrics.',
  ),
  HOST: describeVar(z.string().default('0.0.0.0'), {
    description: 'Interface the HTTP server binds.',
  }),
};
