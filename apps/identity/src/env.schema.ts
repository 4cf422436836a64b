import { z } from 'zod';

import { describeVar, loadEnv } from '@tengine/config';

/** Identity's own variables (the common ones are validated by the runtime). */
export const IDENTITY_ENV = {
  TENGINE_ADMIN_TOKEN: describeVar(
    z
      .string()
      .min(32, 'must be at least 32 characters (generate one with: openssl rand -base64 36)')
      .optional(),
    {
      description:
        'Platform admin token for cross-project operations. Unset: one is generated at first start and printed once.',
      sensitive: true,
    },
  ),
};

export type IdentityEnv = ReturnType<typeof loadIdentityEnv>;

export function loadIdentityEnv(environment: Readonly<Record<string, string | undefined>>) {
  return loadEnv(IDENTITY_ENV, environment);
}
