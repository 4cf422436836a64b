import {
  Global,
  Module,
  type DynamicModule,
  type INestApplicationContext,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestMicroservice } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { BackendServiceName } from '@tengine/contracts';
import { installTraceHooks, type MessageBus } from '@tengine/messaging';
import { openDataSource, type ServiceSchema } from '@tengine/persistence';
import type { Logger } from '@tengine/telemetry';

import { HEALTH_CHECKS, HEALTH_SERVICE_NAME, HealthController } from './health.controller.js';
import { databaseCheck, migrationsCheck, transportCheck, type HealthCheck } from './health.js';
import { NestPinoLogger } from './nest-logger.js';
import { ServiceErrorFilter } from './service-error.filter.js';
import { serviceInfo, type ServiceInfo } from './service-info.js';
import { statusControllerFor } from './status.js';
import {
  APP_LOGGER,
  DATA_SOURCE,
  MESSAGE_BUS,
  NATS_CONNECTION,
  RAW_ENVIRONMENT,
  SERVICE_INFO,
} from './tokens.js';
import { connectService, type TransportConfig } from './transport-config.js';

/** What a backend service is made of. Its `main.ts` and the embedded platform both start it from this. */
export interface BackendServiceDefinition {
  readonly name: BackendServiceName;
  readonly schema: ServiceSchema;
  /**
   * Feature modules; they can inject `MESSAGE_BUS`, `DATA_SOURCE`, `APP_LOGGER`, `SERVICE_INFO`,
   * `RAW_ENVIRONMENT` and `NATS_CONNECTION`.
   */
  readonly imports?: ModuleMetadata['imports'];
  readonly controllers?: Type[];
}

/** Infrastructure a service is started with. */
export interface ServiceRuntimeOptions {
  readonly transport: TransportConfig;
  readonly databaseUrl: string;
  readonly runMigrations: boolean;
  /** Port of the health/metrics HTTP server; `null` for none (embedded mode). 0 picks a free port. */
  readonly httpPort: number | null;
  readonly httpHost?: string;
  readonly logger: Logger;
  readonly rpcTimeoutMs: number;
  /** How long in-flight handlers may run after shutdown begins (default 10 s). */
  readonly shutdownGraceMs?: number;
  /** Raw environment; each service validates its own variables from it. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** A started service. */
export interface RunningService {
  readonly name: string;
  readonly bus: MessageBus;
  readonly dataSource: DataSource;
  /** Base URL of the health/metrics server, when it has one. */
  readonly httpUrl: string | null;
  readonly app: INestApplicationContext;
  close(): Promise<void>;
}

/** Makes the infrastructure providers injectable in every module of one Nest application. */
@Global()
@Module({})
export class InfrastructureModule {
  static with(providers: Provider[]): DynamicModule {
    return {
      module: InfrastructureModule,
      providers,
      exports: providers.map((provider) => (provider as { provide: symbol }).provide),
    };
  }
}

@Module({})
class BackendRootModule {}

/** Builds the infrastructure providers shared by every module of one service. */
export function infrastructureProviders(
  bus: MessageBus,
  dataSource: DataSource | null,
  logger: Logger,
  info: ServiceInfo,
  environment: Readonly<Record<string, string | undefined>>,
): Provider[] {
  return [
    { provide: RAW_ENVIRONMENT, useValue: environment },
    { provide: MESSAGE_BUS, useValue: bus },
    { provide: DATA_SOURCE, useValue: dataSource },
    { provide: APP_LOGGER, useValue: logger },
    { provide: SERVICE_INFO, useValue: info },
  ];
}

/**
 * Starts a backend service: its schema (migrated), its link to the others, its handlers in the
 * service's queue group with trace propagation and the error envelope, and, when a port is given,
 * its health and metrics server.
 */
export async function startBackendService(
  definition: BackendServiceDefinition,
  options: ServiceRuntimeOptions,
): Promise<RunningService> {
  const { logger } = options;
  const info = serviceInfo(definition.name, definition.schema.schema);
  const dataSource = await openDataSource({
    ...definition.schema,
    url: options.databaseUrl,
    applicationName: `tengine-${definition.name}`,
    runMigrations: options.runMigrations,
  });
  let link;
  try {
    link = await connectService(
      options.transport,
      `tengine-${definition.name}`,
      options.rpcTimeoutMs,
    );
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const { bus } = link;
  const checks: Record<string, HealthCheck> = {
    [bus.kind === 'nats' ? 'nats' : 'messaging']: transportCheck(bus),
    database: databaseCheck(dataSource),
    migrations: migrationsCheck(dataSource, definition.schema.schema),
  };
  const root: DynamicModule = {
    module: BackendRootModule,
    imports: [
      InfrastructureModule.with([
        ...infrastructureProviders(bus, dataSource, logger, info, options.environment),
        { provide: NATS_CONNECTION, useValue: link.nats },
      ]),
      ...(definition.imports ?? []),
    ],
    controllers: [
      statusControllerFor(definition.name),
      ...(definition.controllers ?? []),
      ...(options.httpPort === null ? [] : [HealthController]),
    ],
    providers: [
      { provide: HEALTH_CHECKS, useValue: checks },
      { provide: HEALTH_SERVICE_NAME, useValue: definition.name },
      { provide: APP_FILTER, useValue: new ServiceErrorFilter(definition.name, logger) },
    ],
  };
  const server = link.server(definition.name);
  const activity = installTraceHooks(server, definition.name, link.subjectPrefix);
  const nestLogger = new NestPinoLogger(logger);
  let app: INestApplicationContext;
  let httpUrl: string | null = null;
  try {
    if (options.httpPort === null) {
      const microservice: INestMicroservice = await NestFactory.createMicroservice(root, {
        strategy: server,
        logger: nestLogger,
        abortOnError: false,
      });
      await microservice.listen();
      app = microservice;
    } else {
      const http = await NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), {
        logger: nestLogger,
        abortOnError: false,
      });
      http.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
      await http.startAllMicroservices();
      await http.listen(options.httpPort, options.httpHost ?? '0.0.0.0');
      httpUrl = localUrl(http);
      app = http;
    }
  } catch (error) {
    await bus.close().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  logger.info({ transport: bus.kind, httpUrl }, `${definition.name} service started`);
  return {
    name: definition.name,
    bus,
    dataSource,
    httpUrl,
    app,
    close: async () => {
      // Graceful: stop taking messages, let in-flight handlers finish (bounded), then tear down.
      await server.close();
      const idle = await activity.whenIdle(options.shutdownGraceMs ?? 10_000);
      if (!idle)
        logger.warn(
          { inFlight: activity.inFlight },
          'shutdown grace period over with handlers still running',
        );
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}

/** The loopback URL of a listening Nest HTTP app. */
export function localUrl(app: NestFastifyApplication): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}
