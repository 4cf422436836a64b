import { randomBytes } from 'node:crypto';
import pg from 'pg';

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

/** An HTTP answer: status, headers, the raw text and the body parsed as JSON when it is JSON. */
export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

/** Options of one request to the platform. */
export interface CallOptions {
  readonly token?: string | undefined;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * The real platform (`apps/platform/dist/main.js`: gateway, identity, registry, executor and audit)
 * as its own process on the local NATS and a fresh PostgreSQL database, logging at `debug` into a
 * buffer, so every attack can be checked against everything the platform ever wrote.
 */
export interface AttackPlatform {
  readonly url: string;
  readonly adminToken: string;
  readonly secretKeys: string;
  readonly database: TestDatabase;
  readonly subjectPrefix: string;
  readonly process: AppProcess;
  /** Every secret the suite knows of: none may appear in a response body or in the logs. */
  readonly secrets: Set<string>;
  /** Everything the platform wrote to stdout and stderr so far. */
  output(): string;
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /** One SQL query on the platform's database (to check that nothing was created). */
  query<T extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Parses a body as JSON when it is JSON, else keeps the text. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function startAttackPlatform(
  environment: Record<string, string> = {},
): Promise<AttackPlatform> {
  const database = await createTestDatabase();
  const secretKeys = Keyring.generate('attack');
  const subjectPrefix = testSubjectPrefix();
  const adminToken = `adm_attack_${randomBytes(24).toString('base64url')}`;
  const port = await freePort();
  const child = startApp('platform', {
    NATS_URL: TEST_NATS_URL,
    NATS_SUBJECT_PREFIX: subjectPrefix,
    DATABASE_URL: database.url,
    TENGINE_SECRET_KEYS: secretKeys,
    TENGINE_ADMIN_TOKEN: adminToken,
    TENGINE_DATA_DIR: '/nonexistent',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE_MS: '2000',
    ...environment,
  });
  const url = `http://127.0.0.1:${port}`;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const close = async (): Promise<void> => {
    await child.stop('SIGTERM');
    await pool.end();
    await database.drop();
    await deleteRunsStream(subjectPrefix);
  };
  try {
    await child.waitFor(/tengine is running/, 60_000);
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 30_000);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const call: AttackPlatform['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: parseBody(text) as never,
    };
  };
  return {
    url,
    adminToken,
    secretKeys,
    database,
    subjectPrefix,
    process: child,
    secrets: new Set([adminToken, ...secretKeys.split(',').map((entry) => entry.split(':')[1]!)]),
    output: () => child.output(),
    call,
    query: async <T extends Record<string, unknown>>(sql: string, values: unknown[] = []) =>
      (await pool.query<T>(sql, values)).rows,
    close,
  };
}

/** A project with one integration and an API key, created as an operator would. */
export interface Tenant {
  readonly projectId: string;
  readonly integrationId: string;
  readonly apiKey: string;
  readonly apiKeyId: string;
}

export const ALL_SCOPES = [
  'mcp:connect',
  'sessions:mint',
  'keys:write',
  'tools:write',
  'runs:read',
];

function expectStatus(answer: Answer<unknown>, status: number, what: string): void {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text}`);
}

export async function createTenant(
  platform: AttackPlatform,
  options: { environment?: 'development' | 'production'; scopes?: string[] } = {},
): Promise<Tenant> {
  const admin = platform.adminToken;
  const project = await platform.call('POST', '/api/v1/projects', {
    token: admin,
    body: { name: 'Tenant', environment: options.environment ?? 'production' },
  });
  expectStatus(project, 201, 'project');
  const projectId = String(project.body['id']);
  const headers = { 'x-project-id': projectId };
  const integration = await platform.call('POST', '/api/v1/integrations', {
    token: admin,
    headers,
    body: { kind: 'sdk', name: 'backend' },
  });
  expectStatus(integration, 201, 'integration');
  const integrationId = String(integration.body['id']);
  const key = await createApiKey(platform, projectId, integrationId, options.scopes ?? ALL_SCOPES);
  return { projectId, integrationId, apiKey: key.key, apiKeyId: key.id };
}

/** Another API key of an integration (remembered as a secret). */
export async function createApiKey(
  platform: AttackPlatform,
  projectId: string,
  integrationId: string,
  scopes: readonly string[],
): Promise<{ key: string; id: string }> {
  const created = await platform.call<{ key: string; api_key: { id: string } }>(
    'POST',
    `/api/v1/integrations/${integrationId}/api-keys`,
    {
      token: platform.adminToken,
      headers: { 'x-project-id': projectId },
      body: { name: 'key', scopes },
    },
  );
  expectStatus(created, 201, 'api key');
  platform.secrets.add(created.body.key);
  return { key: created.body.key, id: created.body.api_key.id };
}

/** Registers a custom tool with the tenant's key; throws unless it was created. */
export async function createTool(
  platform: AttackPlatform,
  tenant: Tenant,
  definition: Record<string, unknown>,
): Promise<{ id: string; name: string }> {
  const created = await platform.call('POST', '/api/v1/custom-tools', {
    token: tenant.apiKey,
    body: {
      description: `Tool ${String(definition['name'])}`,
      method: 'POST',
      input_schema: { type: 'object', properties: {} },
      ...definition,
    },
  });
  expectStatus(created, 201, `tool ${String(definition['name'])}`);
  return { id: String(created.body['id']), name: String(created.body['name']) };
}

/** Mints a member session token in a development project (remembered as a secret). */
export async function mintSession(
  platform: AttackPlatform,
  tenant: Tenant,
  memberExternalId: string,
): Promise<{ token: string; sessionId: string; memberId: string }> {
  const minted = await platform.call<{
    session_token: string;
    session_id: string;
    member_id: string;
  }>('POST', '/api/v1/mcp/session-token', {
    token: tenant.apiKey,
    body: { member_external_id: memberExternalId },
  });
  expectStatus(minted, 200, 'session token');
  platform.secrets.add(minted.body.session_token);
  return {
    token: minted.body.session_token,
    sessionId: minted.body.session_id,
    memberId: minted.body.member_id,
  };
}
