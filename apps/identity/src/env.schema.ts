import { z } from 'zod';

import { describeVar, loadEnv } from '@tengine/config';
import { Keyring } from '@tengine/secrets';

/** Identity's own variables (the common ones are validated by the runtime). */
export const IDENTITY_ENV = {
  TENGINE_ADMIN_TOKEN: describeVar(
    z
      .string()
      .min(32, 'must be at least 32 characters (generate one with: openssl rand -base64 36)')
      .refine((value) => !value.startsWith('tengine_') && !value.startsWith('tng_mst_'), {
        message:
          'must not start with tengine_ or tng_mst_ (those prefixes mark API keys and session tokens)',
      })
      .optional(),
    {
      description:
        'Platform admin token for cross-project operations. Unset: `npm start` generates one at first start and prints it once; a distributed deployment must set it.',
      sensitive: true,
    },
  ),
  TENGINE_SECRET_KEYS: describeVar(
    z.string().superRefine((value, context) => {
      try {
        Keyring.parse(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
    {
      description:
        'Master keys encrypting secrets at rest, newest first: kid:base64(32 bytes)[,kid:base64…]. Embedded mode generates one.',
      sensitive: true,
    },
  ),
};

export type IdentityEnv = ReturnType<typeof loadIdentityEnv>;

export function loadIdentityEnv(environment: Readonly<Record<string, string | undefined>>) {
  return loadEnv(IDENTITY_ENV, environment);
}
