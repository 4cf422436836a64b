import './telemetry.js';

import { loadEnv } from '@tengine/config';
import { exitWithError, handleShutdown } from '@tengine/runtime';
import { createLogger } from '@tengine/telemetry';

import { startupBanner } from './banner.js';
import { PLATFORM_ENV } from './env.schema.js';
import { startPlatform } from './platform.js';

async function main(): Promise<void> {
  const env = loadEnv(PLATFORM_ENV, process.env);
  const platform = await startPlatform({
    natsUrl: env.NATS_URL,
    subjectPrefix: env.NATS_SUBJECT_PREFIX,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.TENGINE_DATA_DIR,
    embeddedPostgresPort: env.TENGINE_EMBEDDED_PG_PORT,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    runMigrations: env.MIGRATIONS_RUN,
    rpcTimeoutMs: env.RPC_TIMEOUT_MS,
    environment: process.env,
    shutdownGraceMs: Math.max(0, env.SHUTDOWN_GRACE_MS - 1_000),
    gateway: {
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      mcp: {
        allowedOrigins: env.TENGINE_MCP_ALLOWED_ORIGINS,
        maxStreams: env.MCP_MAX_STREAMS,
        perPrincipalConcurrency: env.MCP_PRINCIPAL_CONCURRENCY,
        perProjectConcurrency: env.MCP_PROJECT_CONCURRENCY,
      },
    },
  });
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  const port = new URL(platform.url).port;
  process.stdout.write(startupBanner(platform, `http://${host}:${port}`));
  handleShutdown(
    createLogger({ service: 'platform', level: env.LOG_LEVEL }),
    env.SHUTDOWN_GRACE_MS,
    () => platform.close(),
  );
}

main().catch(exitWithError);
