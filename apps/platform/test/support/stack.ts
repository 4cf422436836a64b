import { Keyring } from '@tengine/secrets';
import {
  createTestDatabase,
  deleteRunsStream,
  freePort,
  startApp,
  TEST_NATS_URL,
  testSubjectPrefix,
  waitUntil,
  type AppProcess,
  type TestDatabase,
} from '@tengine/testing';

import { startPlatform, type RunningPlatform } from '../../src/platform.js';

/** An HTTP answer of the platform. */
export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** The whole platform over the local NATS and a fresh PostgreSQL database, driven over HTTP. */
export interface Stack {
  readonly platform: RunningPlatform;
  readonly database: TestDatabase;
  readonly url: string;
  /** The NATS subject namespace of this stack, for extra processes joining it. */
  readonly subjectPrefix: string;
  readonly adminToken: string;
  /** The master keyring the services run with (tests may open sealed values with it). */
  readonly secretKeys: string;
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: string | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export async function startStack(environment: Record<string, string> = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const secretKeys = Keyring.generate('test');
  const subjectPrefix = testSubjectPrefix();
  const platform = await startPlatform({
    natsUrl: TEST_NATS_URL,
    subjectPrefix,
    databaseUrl: database.url,
    dataDir: '/nonexistent',
    embeddedPostgresPort: 0,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    runMigrations: true,
    rpcTimeoutMs: 5_000,
    environment: { TENGINE_SECRET_KEYS: secretKeys, ...environment },
  }).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  const adminToken = platform.adminToken.token ?? '';
  const call: Stack['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${platform.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: body as never, headers: response.headers };
  };
  return {
    platform,
    database,
    url: platform.url,
    subjectPrefix,
    adminToken,
    secretKeys,
    call,
    close: async () => {
      await platform.close();
      await database.drop();
      await deleteRunsStream(subjectPrefix);
    },
  };
}

/** A project with one integration and an API key of the given scopes. */
export interface ProjectFixture {
  readonly projectId: string;
  readonly integrationId: string;
  readonly apiKey: string;
  readonly apiKeyId: string;
}

export async function createProject(
  stack: Stack,
  options: { environment?: 'development' | 'production'; scopes?: string[] } = {},
): Promise<ProjectFixture> {
  const admin = stack.adminToken;
  const project = await stack.call('POST', '/api/v1/projects', {
    token: admin,
    body: { name: 'Acme', environment: options.environment ?? 'production' },
  });
  if (project.status !== 201)
    throw new Error(`project: ${project.status} ${JSON.stringify(project.body)}`);
  const projectId = String(project.body['id']);
  const headers = { 'x-project-id': projectId };
  const integration = await stack.call('POST', '/api/v1/integrations', {
    token: admin,
    headers,
    body: { kind: 'sdk', name: 'backend' },
  });
  if (integration.status !== 201)
    throw new Error(`integration: ${integration.status} ${JSON.stringify(integration.body)}`);
  const integrationId = String(integration.body['id']);
  const key = await stack.call<{ key: string; api_key: { id: string } }>(
    'POST',
    `/api/v1/integrations/${integrationId}/api-keys`,
    {
      token: admin,
      headers,
      body: {
        name: 'server',
        scopes: options.scopes ?? [
          'mcp:connect',
          'sessions:mint',
          'keys:write',
          'tools:write',
          'runs:read',
        ],
      },
    },
  );
  if (key.status !== 201) throw new Error(`api key: ${key.status} ${JSON.stringify(key.body)}`);
  return { projectId, integrationId, apiKey: key.body.key, apiKeyId: key.body.api_key.id };
}

/** A gateway replica started as its own process, joined to a stack's NATS namespace. */
export interface GatewayProcess {
  readonly process: AppProcess;
  readonly url: string;
}

/** Starts `count` extra gateway processes on the stack and waits until each is ready. */
export async function startGatewayProcesses(
  stack: Stack,
  count: number,
  environment: Record<string, string> = {},
): Promise<GatewayProcess[]> {
  const gateways: GatewayProcess[] = [];
  for (let index = 0; index < count; index += 1) {
    const port = await freePort();
    const process = startApp('gateway', {
      NATS_URL: TEST_NATS_URL,
      NATS_SUBJECT_PREFIX: stack.subjectPrefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...environment,
    });
    const url = `http://127.0.0.1:${port}`;
    gateways.push({ process, url });
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 30_000);
  }
  return gateways;
}
