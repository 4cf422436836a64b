import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { Subjects } from '@tengine/contracts';
import { startGateway, type GatewayOptions, type RunningGateway } from '@tengine/gateway';
import { InProcessBroker } from '@tengine/messaging';
import { generateSecretKeys } from '@tengine/registry';
import { startBackendService, type RunningService, type TransportConfig } from '@tengine/runtime';
import { createLogger, type Logger } from '@tengine/telemetry';

import type { EmbeddedDatabase } from './embedded-postgres.js';
import { BACKEND_DEFINITIONS } from './services.js';

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /** NATS URL; unset runs the services over an in-process broker. */
  readonly natsUrl?: string | undefined;
  readonly subjectPrefix?: string | undefined;
  /** PostgreSQL URL; unset starts an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly embeddedPostgresPort: number;
  readonly port: number;
  readonly host: string;
  readonly logLevel: Parameters<typeof createLogger>[0]['level'];
  readonly runMigrations: boolean;
  readonly rpcTimeoutMs: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Gateway limits (MCP origins, concurrency, body size), as the standalone gateway reads them. */
  readonly gateway?: Pick<GatewayOptions, 'mcp' | 'bodyLimitBytes'>;
  /** How long in-flight handlers may finish after shutdown begins. */
  readonly shutdownGraceMs?: number;
}

/** The whole platform running in this process. */
export interface RunningPlatform {
  readonly url: string;
  readonly transport: TransportConfig['kind'];
  readonly database: 'embedded' | 'external';
  readonly gateway: RunningGateway;
  readonly services: readonly RunningService[];
  /** The admin token, only on the start that created it. */
  readonly adminToken: {
    readonly created: boolean;
    readonly token: string | null;
    readonly source: string;
  };
  close(): Promise<void>;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The services' environment with TENGINE_SECRET_KEYS: as configured, else the key kept in
 * `<dataDir>/secret-keys` (generated on first use, mode 0600). There is no temporary fallback: a key
 * that dies with the process would leave every stored secret and signing key undecryptable.
 */
async function withSecretKeys(
  environment: Environment,
  dataDir: string,
  logger: Logger,
): Promise<Environment> {
  if (environment['TENGINE_SECRET_KEYS']?.trim()) return environment;
  const root = resolve(dataDir);
  const file = join(root, 'secret-keys');
  try {
    await mkdir(root, { recursive: true, mode: 0o755 });
    if (!existsSync(file)) {
      // "wx": two platforms starting on one data directory never overwrite each other's key.
      await writeFile(file, `${generateSecretKeys()}\n`, { mode: 0o600, flag: 'wx' }).catch(
        (error: unknown) => {
          if ((error as { code?: string }).code !== 'EEXIST') throw error;
        },
      );
      await chmod(file, 0o600);
      logger.info({ file }, 'generated the key that encrypts secrets at rest; back this file up');
    }
    return { ...environment, TENGINE_SECRET_KEYS: (await readFile(file, 'utf8')).trim() };
  } catch (error) {
    throw new Error(
      `TENGINE_SECRET_KEYS is not set and no key can be kept in ${file} (${(error as Error).message}). ` +
        'Set TENGINE_SECRET_KEYS (kid:base64 of 32 random bytes) or TENGINE_DATA_DIR to a writable folder.',
      { cause: error },
    );
  }
}

/**
 * Starts registry, identity, executor, audit and the gateway in one process: the same handlers
 * as the distributed deployment, over NATS when a URL is given and in-process otherwise, on the
 * given PostgreSQL or an embedded one.
 */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const loggerFor = (service: string): Logger => createLogger({ service, level: options.logLevel });
  const started: Array<{ close(): Promise<void> }> = [];
  let embedded: EmbeddedDatabase | undefined;
  const stopAll = async (): Promise<void> => {
    for (const item of started.reverse()) await item.close().catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
  };
  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      // Loaded only when needed: the PostgreSQL binaries package is large and irrelevant with DATABASE_URL.
      const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
      embedded = await startEmbeddedPostgres(
        options.dataDir,
        options.embeddedPostgresPort,
        loggerFor('platform'),
      );
      databaseUrl = embedded.url;
    }
    const transport: TransportConfig = options.natsUrl
      ? { kind: 'nats', url: options.natsUrl, subjectPrefix: options.subjectPrefix }
      : { kind: 'in-process', broker: new InProcessBroker() };
    const environment = await withSecretKeys(
      options.environment,
      options.dataDir,
      loggerFor('platform'),
    );
    const services: RunningService[] = [];
    for (const definition of BACKEND_DEFINITIONS) {
      const service = await startBackendService(definition, {
        transport,
        databaseUrl,
        runMigrations: options.runMigrations,
        httpPort: null,
        logger: loggerFor(definition.name),
        rpcTimeoutMs: options.rpcTimeoutMs,
        ...(options.shutdownGraceMs === undefined
          ? {}
          : { shutdownGraceMs: options.shutdownGraceMs }),
        environment,
      });
      services.push(service);
      started.push(service);
    }
    const gateway = await startGateway({
      transport,
      port: options.port,
      host: options.host,
      logger: loggerFor('gateway'),
      rpcTimeoutMs: options.rpcTimeoutMs,
      environment: options.environment,
      ...options.gateway,
    });
    started.push(gateway);
    const adminToken = await gateway.bus.request(Subjects.identity.adminTokenBootstrap, {});
    return {
      url: gateway.url,
      transport: transport.kind,
      database: embedded ? 'embedded' : 'external',
      gateway,
      services,
      adminToken,
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
