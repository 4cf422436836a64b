import { loadEnv } from '@tengine/config';
import { migrate, openDataSource } from '@tengine/persistence';
import { exitWithError } from '@tengine/runtime';
import { createLogger } from '@tengine/telemetry';

import { startEmbeddedPostgres } from './embedded-postgres.js';
import { PLATFORM_ENV } from './env.schema.js';
import { BACKEND_DEFINITIONS } from './services.js';

// `npm run migrate`: applies every service's pending migrations to DATABASE_URL (or the embedded
// database) and exits. Each service also migrates its own schema at boot unless MIGRATIONS_RUN=false.
async function main(): Promise<void> {
  const env = loadEnv(PLATFORM_ENV, process.env);
  const logger = createLogger({ service: 'migrate', level: env.LOG_LEVEL });
  const embedded = env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres(env.TENGINE_DATA_DIR, env.TENGINE_EMBEDDED_PG_PORT, logger);
  const url = env.DATABASE_URL ?? (embedded as { url: string }).url;
  try {
    for (const definition of BACKEND_DEFINITIONS) {
      const dataSource = await openDataSource({
        ...definition.schema,
        url,
        applicationName: 'tengine-migrate',
        runMigrations: false,
      });
      try {
        const applied = await migrate(dataSource, definition.schema.schema);
        process.stdout.write(
          `${definition.schema.schema}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`,
        );
      } finally {
        await dataSource.destroy();
      }
    }
  } finally {
    await embedded?.stop();
  }
}

main().catch(exitWithError);
