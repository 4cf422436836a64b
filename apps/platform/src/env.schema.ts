import { z } from 'zod';

import { COMMON_ENV, describeVar, portVar } from '@tengine/config';

/** Every variable of the all-in-one platform (`npm start`). */
export const PLATFORM_ENV = {
  ...COMMON_ENV,
  PORT: portVar(3000, 'Port of the gateway: MCP endpoint, management API, health, metrics.'),
  HOST: describeVar(z.string().default('127.0.0.1'), {
    description:
      'Interface the gateway binds. The embedded default stays on loopback; set 0.0.0.0 to expose it.',
  }),
  TENGINE_DATA_DIR: describeVar(z.string().default('./.tengine'), {
    description: 'Where embedded mode keeps its PostgreSQL data (used when DATABASE_URL is unset).',
  }),
  TENGINE_EMBEDDED_PG_PORT: portVar(54329, 'Port of the embedded PostgreSQL (loopback only).'),
  TENGINE_SECRET_KEYS: describeVar(z.string().optional(), {
    description:
      'Master keys encrypting secrets at rest (kid:base64 of 32 bytes, newest first; checked by the ' +
      'services). Unset: generated once and kept in <TENGINE_DATA_DIR>/secret-keys (mode 0600).',
    sensitive: true,
  }),
};
