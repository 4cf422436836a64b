import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';

import type { MessageBus } from '@tengine/messaging';
import {
  connectService,
  HEALTH_CHECKS,
  HEALTH_SERVICE_NAME,
  HealthController,
  infrastructureProviders,
  InfrastructureModule,
  localUrl,
  NestPinoLogger,
  serviceInfo,
  transportCheck,
  type CheckResult,
  type HealthCheck,
  type TransportConfig,
} from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { APP_GUARD } from '@nestjs/core';

import { AUTHENTICATOR, AuthGuard } from './auth/auth.guard.js';
import { Authenticator } from './auth/authenticator.js';
import { Revocations } from './auth/revocations.js';
import { SessionKeys } from './auth/session-keys.js';
import { DocsController } from './http/docs.controller.js';
import { HttpErrorFilter } from './http/http-error.filter.js';
import { ApiKeysController } from './management/api-keys.controller.js';
import { AssertionKeysController } from './management/assertion-keys.controller.js';
import { CustomToolsController } from './management/custom-tools.controller.js';
import { Forwarder } from './management/forwarder.js';
import { IntegrationsController } from './management/integrations.controller.js';
import { ProjectsController } from './management/projects.controller.js';
import { RunsController } from './management/runs.controller.js';
import { SessionsController } from './management/sessions.controller.js';
import { McpEndpoint, type McpOptions } from './mcp/mcp-endpoint.js';
import { StreamRegistry } from './mcp/streams.js';
import { ExecutorToolCaller } from './mcp/tool-caller.js';
import { ToolCatalog } from './mcp/tool-catalog.js';
import { installHttpTracing, requestIdFrom } from './http/http-tracing.js';
import { collectPlatformStatus } from './status/status.controller.js';
import { StatusController } from './status/status.controller.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  readonly transport: TransportConfig;
  readonly port: number;
  readonly host: string;
  readonly logger: Logger;
  readonly rpcTimeoutMs: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** MCP endpoint limits; defaults suit one gateway replica on two cores. */
  readonly mcp?: Partial<McpOptions>;
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly bodyLimitBytes?: number;
}

/** How long a client may take to send a whole request (headers and body); then 408. */
const SLOW_CLIENT_TIMEOUT_MS = 30_000;

/** Default MCP endpoint limits. */
export const DEFAULT_MCP_OPTIONS: McpOptions = {
  allowedOrigins: [],
  maxStreams: 10_000,
  perPrincipalConcurrency: 64,
  perProjectConcurrency: 512,
  pageSize: 100,
  maxJsonDepth: 64,
};

/** A running gateway. */
export interface RunningGateway {
  readonly url: string;
  readonly bus: MessageBus;
  readonly app: NestFastifyApplication;
  /** Revocations this replica knows of; MCP streams subscribe to close on revocation. */
  readonly revocations: Revocations;
  close(): Promise<void>;
}

@Module({})
class GatewayRootModule {}

/** Reports which backend services answer; informational, it never makes the gateway unready. */
function downstreamCheck(bus: MessageBus, info: ReturnType<typeof serviceInfo>): HealthCheck {
  return async (): Promise<CheckResult> => {
    const status = await collectPlatformStatus(bus, info, 500);
    const services = Object.fromEntries(
      Object.entries(status.services)
        .filter(([name]) => name !== 'gateway')
        .map(([name, entry]) => [name, entry.status === 'ok' ? 'up' : 'down']),
    );
    return { status: status.status === 'ok' ? 'up' : 'degraded', services };
  };
}

/** Starts the public HTTP ingress on the given transport. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const info = serviceInfo('gateway', null);
  const { bus } = await connectService(options.transport, 'tengine-gateway', options.rpcTimeoutMs);
  const checks: Record<string, HealthCheck> = {
    [bus.kind === 'nats' ? 'nats' : 'messaging']: transportCheck(bus),
    downstream: downstreamCheck(bus, info),
  };
  const revocations = new Revocations(bus, logger);
  await revocations.start();
  const sessionKeys = new SessionKeys(bus);
  const authenticator = new Authenticator(bus, sessionKeys, revocations);
  // Revocation events published while NATS was away were missed: forget cached principals and re-read.
  const stopReconnectWatch = bus.onReconnect(() => {
    authenticator.clear();
    void revocations.reload();
    void sessionKeys.refresh().catch(() => undefined);
  });
  const catalog = new ToolCatalog(bus);
  const mcpOptions: McpOptions = { ...DEFAULT_MCP_OPTIONS, ...options.mcp };
  const streams = new StreamRegistry(mcpOptions.maxStreams);
  const stopToolWatch = catalog.onToolsChanged((event) =>
    streams.notifyToolsChanged(event.projectId),
  );
  const stopRevocationWatch = revocations.onRevoked((event) => streams.closeRevoked(event));
  const stopCatalogReconnect = bus.onReconnect(() => catalog.clear());
  const mcp = new McpEndpoint(
    authenticator,
    catalog,
    streams,
    new ExecutorToolCaller(bus, logger),
    mcpOptions,
    logger,
  );
  const stopAuth = (): void => {
    streams.closeAll();
    stopToolWatch();
    stopRevocationWatch();
    stopCatalogReconnect();
    catalog.close();
    stopReconnectWatch();
    sessionKeys.stop();
    authenticator.close();
    revocations.stop();
  };
  const root: DynamicModule = {
    module: GatewayRootModule,
    imports: [
      InfrastructureModule.with(
        infrastructureProviders(bus, null, logger, info, options.environment),
      ),
    ],
    controllers: [
      HealthController,
      StatusController,
      ProjectsController,
      IntegrationsController,
      ApiKeysController,
      AssertionKeysController,
      SessionsController,
      CustomToolsController,
      DocsController,
      RunsController,
    ],
    providers: [
      { provide: HEALTH_CHECKS, useValue: checks },
      { provide: HEALTH_SERVICE_NAME, useValue: 'gateway' },
      { provide: AUTHENTICATOR, useValue: authenticator },
      { provide: APP_GUARD, useClass: AuthGuard },
      Forwarder,
    ],
  };
  const adapter = new FastifyAdapter({
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFrom(request.headers['x-request-id'], randomUUID),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Slow clients: a request must arrive in full within this time (streams are responses, unaffected).
    requestTimeout: SLOW_CLIENT_TIMEOUT_MS,
    keepAliveTimeout: 72_000,
    // Node keeps its 60 s header deadline (which also bounds a trickled body) unless told otherwise,
    // and looks for late requests only every 30 s: enforce the deadline on headers and body, to the second.
    http: {
      requestTimeout: SLOW_CLIENT_TIMEOUT_MS,
      headersTimeout: SLOW_CLIENT_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
  });
  installHttpTracing(adapter.getInstance());
  mcp.register(adapter.getInstance());
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    });
    app.useGlobalFilters(new HttpErrorFilter(logger));
    await app.listen(options.port, options.host);
  } catch (error) {
    stopAuth();
    await bus.close().catch(() => undefined);
    throw error;
  }
  const url = localUrl(app);
  logger.info({ url, transport: bus.kind }, 'gateway started');
  return {
    url,
    bus,
    app,
    revocations,
    close: async () => {
      await app.close();
      stopAuth();
      await bus.close();
    },
  };
}
