import { COMMON_ENV, ConfigError, loadEnv } from '@tengine/config';
import { openDataSource, schemaState } from '@tengine/persistence';
import { exitWithError } from '@tengine/runtime';

import { loadRegistryEnv } from './env.schema.js';
import { registrySchema } from './registry.definition.js';
import { rotateToolSecrets } from './secrets/rotation.js';

// `npm run secrets:rotate`: after putting a new key first in TENGINE_SECRET_KEYS (keeping the old
// ones after it), re-encrypts every stored tool secret under the new key. Then the old keys can be
// removed. Safe to run while the registry serves: rows are re-sealed one batch at a time.
async function main(): Promise<void> {
  const { DATABASE_URL: databaseUrl } = loadEnv(
    { DATABASE_URL: COMMON_ENV.DATABASE_URL },
    process.env,
  );
  const { TENGINE_SECRET_KEYS: keyring } = loadRegistryEnv(process.env);
  if (!databaseUrl) {
    throw new ConfigError(
      'secrets:rotate needs DATABASE_URL (the registry database). In embedded mode the key in ' +
        '<TENGINE_DATA_DIR>/secret-keys is generated once and needs no rotation.',
    );
  }
  if (!keyring) {
    throw new ConfigError(
      'secrets:rotate needs TENGINE_SECRET_KEYS: the new key first, then every key still in use.',
    );
  }
  const dataSource = await openDataSource({
    ...registrySchema,
    url: databaseUrl,
    applicationName: 'tengine-secrets-rotate',
    runMigrations: false,
  });
  try {
    const state = await schemaState(dataSource, registrySchema.schema);
    if (state.pending.length > 0) {
      throw new ConfigError(
        `The registry schema has pending migrations (${state.pending.join(', ')}); run npm run migrate first.`,
      );
    }
    const report = await rotateToolSecrets(dataSource, keyring);
    process.stdout.write(
      `registry: ${report.rotated} tool secret(s) re-encrypted under key "${report.keyId}"\n`,
    );
    for (const failure of report.failed) {
      process.stderr.write(
        `registry: tool ${failure.toolId} version ${failure.version}: ${failure.reason}\n`,
      );
    }
    if (report.failed.length > 0) {
      process.stderr.write(
        `registry: ${report.failed.length} secret(s) could not be decrypted with any key; ` +
          'add the missing key to TENGINE_SECRET_KEYS or re-register those tools with a fresh secret.\n',
      );
      process.exitCode = 1;
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch(exitWithError);
