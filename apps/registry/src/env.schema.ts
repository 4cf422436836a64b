import { z } from 'zod';

import { describeVar, loadEnv } from '@tengine/config';
import { Keyring } from '@tengine/secrets';

const HOSTNAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6 = /^[0-9a-f:.]+$/;

/** The registry's own variables (the common ones are validated by the runtime). */
export const REGISTRY_ENV = {
  TENGINE_SECRET_KEYS: describeVar(
    z
      .string()
      .optional()
      .transform((value, context): Keyring | null => {
        if (value === undefined) return null;
        try {
          return Keyring.parse(value);
        } catch (error) {
          // Keyring's messages never contain key material.
          context.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    {
      description:
        'Master keys encrypting tool auth secrets at rest, newest first: kid:base64(32 bytes)[,kid:base64…]. ' +
        'The newest encrypts; all decrypt. After adding a key, run npm run secrets:rotate. ' +
        'Unset: tools cannot store secrets. Embedded mode (npm start) generates one.',
      sensitive: true,
    },
  ),
  TENGINE_ALLOW_HTTP_HOSTS: describeVar(
    z
      .string()
      .optional()
      .transform((value, context): string[] => {
        const hosts = (value ?? '')
          .split(',')
          .map((host) =>
            host
              .trim()
              .toLowerCase()
              .replace(/^\[(.*)\]$/, '$1'),
          )
          .filter((host) => host !== '');
        for (const host of hosts) {
          if (!HOSTNAME.test(host) && !(host.includes(':') && IPV6.test(host))) {
            context.addIssue({ code: 'custom', message: `"${host}" is not a hostname` });
          }
        }
        return hosts;
      }),
    {
      description:
        'Development only: comma-separated hostnames whose tools may use http:// base URLs ' +
        '(e.g. localhost). Empty by default: every base_url must be HTTPS.',
    },
  ),
};

export type RegistryEnv = ReturnType<typeof loadRegistryEnv>;

export function loadRegistryEnv(environment: Readonly<Record<string, string | undefined>>) {
  return loadEnv(REGISTRY_ENV, environment);
}
