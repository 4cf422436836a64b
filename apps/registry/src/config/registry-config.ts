import { Module } from '@nestjs/common';

import type { Keyring } from '@tengine/secrets';
import { APP_LOGGER, RAW_ENVIRONMENT } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { loadRegistryEnv } from '../env.schema.js';

/** The registry's settings, validated once at boot. */
export interface RegistryConfig {
  /** Master keys of tool secrets; null when TENGINE_SECRET_KEYS is unset. */
  readonly keyring: Keyring | null;
  /** Hosts whose tools may use `http://` base URLs (development only). */
  readonly allowHttpHosts: ReadonlySet<string>;
}

export const REGISTRY_CONFIG = Symbol('registry.config');

/** Loads the registry's settings, failing fast on bad values and warning about unsafe ones. */
export function registryConfigFrom(
  environment: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): RegistryConfig {
  const env = loadRegistryEnv(environment);
  if (env.TENGINE_SECRET_KEYS === null) {
    logger.warn(
      'TENGINE_SECRET_KEYS is not set: tools with auth_strategy bearer or hmac_signature cannot be ' +
        'registered. Set it to kid:base64(32 random bytes), e.g. k1:$(openssl rand -base64 32).',
    );
  }
  if (env.TENGINE_ALLOW_HTTP_HOSTS.length > 0) {
    // Loud on purpose: plain HTTP exposes tool secrets and member identities on the wire.
    logger.warn(
      { hosts: env.TENGINE_ALLOW_HTTP_HOSTS },
      '!!! TENGINE_ALLOW_HTTP_HOSTS is set: tools may call these hosts over plain http://. ' +
        'Development only; never set it in production. !!!',
    );
  }
  return {
    keyring: env.TENGINE_SECRET_KEYS,
    allowHttpHosts: new Set(env.TENGINE_ALLOW_HTTP_HOSTS),
  };
}

@Module({
  providers: [
    {
      provide: REGISTRY_CONFIG,
      inject: [RAW_ENVIRONMENT, APP_LOGGER],
      useFactory: registryConfigFrom,
    },
  ],
  exports: [REGISTRY_CONFIG],
})
export class RegistryConfigModule {}
