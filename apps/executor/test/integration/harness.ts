import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ulid } from 'ulid';

import {
  RunsStream,
  Subjects,
  type CreateToolRequest,
  type ExecuteRunReply,
  type ExecuteRunRequest,
  type ProjectPrincipal,
  type RunEvent,
  type Tool,
} from '@tengine/contracts';
// Tests run the real registry for tool definitions (allowed in tests; apps never import apps).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { registryService } from '@tengine/registry';
import type { MessageBus } from '@tengine/messaging';
import { connectService, startBackendService, type RunningService } from '@tengine/runtime';
import {
  captureLogger,
  createTestDatabase,
  TEST_NATS_URL,
  testSubjectPrefix,
  type TestDatabase,
} from '@tengine/testing';

import { executorService } from '../../src/executor.definition.js';

/** A TENGINE_SECRET_KEYS entry with a fresh random key. */
export function secretKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** Settings that make the executor's timers fast enough for tests. */
export const FAST_EXECUTOR_ENV: Record<string, string> = {
  TENGINE_EXECUTOR_RETRY_BASE_MS: '20',
  TENGINE_EXECUTOR_RETRY_MAX_DELAY_MS: '300',
  TENGINE_EXECUTOR_LEASE_GRACE_MS: '500',
  TENGINE_EXECUTOR_MAINTENANCE_INTERVAL_MS: '200',
  TENGINE_TOOL_CACHE_TTL_MS: '0',
  // Tests of one suite share an origin; the budget itself is covered by retry-policy.spec.ts.
  TENGINE_EXECUTOR_RETRY_BUDGET_RESERVE: '100',
};

/** One request as the test upstream received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type UpstreamHandler = (
  request: RecordedRequest,
  response: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

/** A local API the tools call: records requests and TCP connections, answers with `handler`. */
export class TestUpstream {
  readonly requests: RecordedRequest[] = [];
  connections = 0;
  handler: UpstreamHandler = (_request, response) => json(response, 200, { ok: true });
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly protocol: 'http' | 'https',
  ) {
    server.on('connection', (socket: Socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    const onRequest = (raw: IncomingMessage, response: ServerResponse): void => {
      const chunks: Buffer[] = [];
      raw.on('data', (chunk: Buffer) => chunks.push(chunk));
      raw.on('end', () => {
        const recorded: RecordedRequest = {
          method: raw.method ?? '',
          url: raw.url ?? '',
          headers: raw.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        Promise.resolve(this.handler(recorded, response, raw)).catch((error: unknown) => {
          response.statusCode = 599;
          response.end(String(error));
        });
      });
    };
    server.on('request', onRequest);
  }

  static async start(
    options: { tls?: { key: string; cert: string }; host?: string } = {},
  ): Promise<TestUpstream> {
    const server = options.tls ? createHttpsServer(options.tls) : createHttpServer();
    const upstream = new TestUpstream(server, options.tls ? 'https' : 'http');
    await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
    return upstream;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http(s)://<host>:<port>` (the listening address unless given). */
  url(host = (this.server.address() as AddressInfo).address): string {
    return `${this.protocol}://${host}:${this.port}`;
  }

  /** Requests whose path starts with `prefix`. */
  received(prefix: string): RecordedRequest[] {
    return this.requests.filter((request) => request.url.startsWith(prefix));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers with a JSON body. */
export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** A registry and an executor on one test database and subject namespace, over the local NATS. */
export interface ExecutorHarness {
  readonly database: TestDatabase;
  readonly subjectPrefix: string;
  /** The first registry replica (stopped by {@link stopRegistry} when a test needs another). */
  readonly registry: RunningService;
  readonly projectId: string;
  /** The bus the harness sends requests with (plays the gateway). */
  readonly client: MessageBus;
  /** Starts another registry replica (default: the suite's secret keys). */
  startRegistry(environment?: Record<string, string>): Promise<RunningService>;
  stopRegistry(service: RunningService): Promise<void>;
  /** Starts an executor replica with extra environment. */
  startExecutor(environment?: Record<string, string>): Promise<RunningService>;
  createTool(
    overrides: Partial<CreateToolRequest> & Pick<CreateToolRequest, 'name'>,
  ): Promise<Tool>;
  /** Sends `rpc.executor.run.execute.v1` the way the gateway does. */
  execute(
    tool: Pick<Tool, 'name' | 'version'>,
    args: Record<string, unknown>,
    options?: {
      principal?: ProjectPrincipal;
      idempotencyKey?: string;
      runId?: string;
      timeoutMs?: number;
    },
  ): Promise<ExecuteRunReply>;
  /** Every Run event in the suite's stream, oldest first. */
  runEvents(): Promise<RunEvent[]>;
  readonly nats: NatsConnection;
  close(): Promise<void>;
}

/** An input schema declaring every (non-reserved) placeholder the tool's templates use. */
function inputSchemaFor(tool: Partial<CreateToolRequest>): Record<string, unknown> {
  const text = JSON.stringify([
    tool.endpoint_path,
    tool.query_template,
    tool.header_template,
    tool.body_template,
  ]);
  const names = [...text.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)]
    .map((match) => match[1] as string)
    .filter((name) => !['member_id', 'project_id', 'integration_id'].includes(name));
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((name) => [name, {}])),
    additionalProperties: true,
  };
}

/** A principal of the harness project: an API key, or a member session when `member` is given. */
export function principalFor(
  projectId: string,
  member?: { id?: string; externalId?: string },
): ProjectPrincipal {
  const integrationId = '00000000-0000-4000-8000-0000000000aa';
  if (!member) {
    return {
      kind: 'api_key',
      keyId: 'key_test',
      projectId,
      integrationId,
      scopes: ['mcp:connect'],
    };
  }
  return {
    kind: 'member_session',
    keyId: 'key_test',
    sessionId: randomUUID(),
    projectId,
    integrationId,
    memberId: member.id ?? randomUUID(),
    memberExternalId: member.externalId ?? 'user-1',
    scopes: ['mcp:connect'],
    expiresAt: Math.floor(Date.now() / 1000) + 900,
  };
}

export async function executorHarness(
  executorEnvironment: Record<string, string>,
  registryEnvironment: Record<string, string> = {},
): Promise<ExecutorHarness> {
  const database = await createTestDatabase();
  const subjectPrefix = testSubjectPrefix();
  const running: RunningService[] = [];
  const start = async (
    definition: typeof executorService,
    environment: Record<string, string>,
  ): Promise<RunningService> => {
    const service = await startBackendService(definition, {
      transport: { kind: 'nats', url: TEST_NATS_URL, subjectPrefix },
      databaseUrl: database.url,
      runMigrations: true,
      httpPort: null,
      logger: captureLogger(definition.name, 'warn').logger,
      rpcTimeoutMs: 10_000,
      environment,
    });
    running.push(service);
    return service;
  };
  const registryDefaults = {
    TENGINE_SECRET_KEYS: secretKey('k1'),
    TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1,localhost',
    ...registryEnvironment,
  };
  const registry = await start(registryService, registryDefaults);
  const link = await connectService(
    { kind: 'nats', url: TEST_NATS_URL, subjectPrefix },
    'executor-test-client',
    10_000,
  );
  const client = link.bus;
  const project = await client.request(Subjects.registry.projectCreate, {
    name: 'Executor tests',
    environment: 'development',
  });
  const nats = await connect({ servers: TEST_NATS_URL });
  const streamName = RunsStream.name(subjectPrefix);
  return {
    database,
    subjectPrefix,
    registry,
    projectId: project.id,
    client,
    nats,
    startRegistry: (environment = {}) =>
      start(registryService, { ...registryDefaults, ...environment }),
    stopRegistry: async (service) => {
      const index = running.indexOf(service);
      if (index >= 0) running.splice(index, 1);
      await service.close();
    },
    startExecutor: (environment = {}) =>
      start(executorService, { ...FAST_EXECUTOR_ENV, ...executorEnvironment, ...environment }),
    createTool: (overrides) =>
      client.request(Subjects.registry.toolCreate, {
        input_schema: inputSchemaFor(overrides),
        projectId: project.id,
        description: '',
        method: 'GET',
        base_url: 'http://127.0.0.1:9',
        endpoint_path: '/',
        query_template: null,
        header_template: null,
        body_template: null,
        auth_strategy: 'none',
        require_member: false,
        is_enabled: true,
        timeout_ms: 2_000,
        required_scope: null,
        annotations: {},
        ...overrides,
      }),
    execute: (tool, args, options = {}) => {
      const runId = options.runId ?? ulid();
      const request: ExecuteRunRequest = {
        runId,
        requestId: 1,
        principal: options.principal ?? principalFor(project.id),
        tool: { name: tool.name, version: tool.version },
        arguments: args,
        idempotencyKey: options.idempotencyKey ?? runId,
      };
      return client.request(Subjects.executor.runExecute, request, {
        timeoutMs: options.timeoutMs ?? 20_000,
      });
    },
    runEvents: async () => {
      const manager = await jetstreamManager(nats);
      const info = await manager.streams.info(streamName);
      const events: RunEvent[] = [];
      for (
        let seq = info.state.first_seq;
        seq <= info.state.last_seq && info.state.messages > 0;
        seq += 1
      ) {
        const message = await manager.streams.getMessage(streamName, { seq }).catch(() => null);
        if (message) events.push(message.json<RunEvent>());
      }
      return events;
    },
    close: async () => {
      for (const service of running.splice(0).reverse())
        await service.close().catch(() => undefined);
      await client.close();
      const manager = await jetstreamManager(nats).catch(() => null);
      await manager?.streams.delete(streamName).catch(() => undefined);
      await nats.close();
      await database.drop();
    },
  };
}
