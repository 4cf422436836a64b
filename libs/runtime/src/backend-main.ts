import { z } from 'zod';

import { COMMON_ENV, ConfigError, describeVar, loadEnv, portVar } from '@tengine/config';
import { createLogger, type Logger } from '@tengine/telemetry';

import {
  startBackendService,
  type BackendServiceDefinition,
  type RunningService,
} from './service-host.js';

/** Environment of a backend service started on its own. */
export function backendEnvShape(defaultPort: number) {
  return {
    ...COMMON_ENV,
    PORT: portVar(defaultPort, 'Port of the health and metrics HTTP server.'),
    HOST: describeVar(z.string().default('0.0.0.0'), {
      description: 'Interface the HTTP server binds.',
    }),
  };
}

/** Raw environment handed to services, which validate their own variables with their env schema. */
export type RawEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Installs SIGTERM/SIGINT handling: stop taking work, let in-flight work finish within the grace
 * period, then exit. A second signal exits at once.
 */
export function handleShutdown(logger: Logger, graceMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown grace period exceeded; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Prints a configuration or startup error for a human and exits non-zero. */
export function exitWithError(error: unknown): never {
  const message =
    error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

/** The `main` of a backend service deployed on its own (NATS and PostgreSQL required). */
export async function runBackendMain(
  definition: BackendServiceDefinition,
  defaultPort: number,
  environment: RawEnvironment,
): Promise<RunningService> {
  try {
    const env = loadEnv(backendEnvShape(defaultPort), environment);
    if (!env.NATS_URL || !env.DATABASE_URL) {
      throw new ConfigError(
        `${definition.name} runs on its own only with NATS_URL and DATABASE_URL set ` +
          `(missing: ${[!env.NATS_URL && 'NATS_URL', !env.DATABASE_URL && 'DATABASE_URL'].filter(Boolean).join(', ')}). ` +
          'For a single-process platform with embedded defaults, run npm start.',
      );
    }
    const logger = createLogger({ service: definition.name, level: env.LOG_LEVEL });
    const running = await startBackendService(definition, {
      transport: { kind: 'nats', url: env.NATS_URL, subjectPrefix: env.NATS_SUBJECT_PREFIX },
      databaseUrl: env.DATABASE_URL,
      runMigrations: env.MIGRATIONS_RUN,
      httpPort: env.PORT,
      httpHost: env.HOST,
      logger,
      rpcTimeoutMs: env.RPC_TIMEOUT_MS,
      // Leave a second for tear-down inside the process's own grace period.
      shutdownGraceMs: Math.max(0, env.SHUTDOWN_GRACE_MS - 1_000),
      environment,
    });
    handleShutdown(logger, env.SHUTDOWN_GRACE_MS, () => running.close());
    return running;
  } catch (error) {
    return exitWithError(error);
  }
}
