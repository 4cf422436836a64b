import { Subjects } from '@tengine/contracts';
import { startGateway, type RunningGateway } from '@tengine/gateway';
import { InProcessBroker } from '@tengine/messaging';
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
    const services: RunningService[] = [];
    for (const definition of BACKEND_DEFINITIONS) {
      const service = await startBackendService(definition, {
        transport,
        databaseUrl,
        runMigrations: options.runMigrations,
        httpPort: null,
        logger: loggerFor(definition.name),
        rpcTimeoutMs: options.rpcTimeoutMs,
        environment: options.environment,
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
