import { z } from 'zod';

import { COMMON_ENV, describeVar, portVar } from '@tengine/config';
import { GATEWAY_ENV } from '@tengine/gateway';

/** Every variable of the all-in-one platform (`npm start`). */
export const PLATFORM_ENV = {
  ...COMMON_ENV,
  // The gateway's own limits apply in the all-in-one process too.
  TENGINE_MCP_ALLOWED_ORIGINS: GATEWAY_ENV.TENGINE_MCP_ALLOWED_ORIGINS,
  MCP_MAX_STREAMS: GATEWAY_ENV.MCP_MAX_STREAMS,
  MCP_PRINCIPAL_CONCURRENCY: GATEWAY_ENV.MCP_PRINCIPAL_CONCURRENCY,
  MCP_PROJECT_CONCURRENCY: GATEWAY_ENV.MCP_PROJECT_CONCURRENCY,
  HTTP_BODY_LIMIT_BYTES: GATEWAY_ENV.HTTP_BODY_LIMIT_BYTES,
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
