import { generateKeyPairSync, randomUUID } from 'node:crypto';

import { randomBase62 } from '@tengine/auth';
import { MANAGEMENT_ROUTES, type RouteDoc } from '@tengine/gateway';
import { waitUntil } from '@tengine/testing';

import { AttackGuard } from './support/guard.js';
import {
  expectRpcRefusal,
  expectToolRefusal,
  INITIALIZE,
  mcp,
  resultOf,
  toolCall,
} from './support/mcp.js';
import {
  createTenant,
  createTool,
  mintSession,
  startAttackPlatform,
  type Answer,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

/** Everything of one tenant an attacker could name by id. */
interface TenantIds {
  readonly projectId: string;
  readonly integrationId: string;
  readonly keyId: string;
  readonly assertionKeyId: string;
  readonly sessionId: string;
  readonly toolId: string;
  readonly runId: string;
  readonly memberId: string;
}

const ES256_PUBLIC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

/** The value a path parameter takes for a tenant. */
function pathFor(route: RouteDoc, ids: TenantIds): string {
  return route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = (
      {
        projectId: ids.projectId,
        integrationId: ids.integrationId,
        keyId: ids.keyId,
        assertionKeyId: ids.assertionKeyId,
        sessionId: ids.sessionId,
        toolId: ids.toolId,
        runId: ids.runId,
      } as Record<string, string>
    )[name];
    if (value === undefined)
      throw new Error(`No id for the path parameter ${name} of ${route.path}`);
    return value;
  });
}

/** A valid body for a route that takes one, so that ownership is the only reason to refuse. */
function bodyFor(route: RouteDoc, marker: string): unknown {
  const tool = {
    name: `tool_${marker}`,
    description: 'attacker tool',
    method: 'GET',
    base_url: 'https://api.example.com',
    endpoint_path: '/x',
    input_schema: { type: 'object', properties: {} },
  };
  const bodies: Record<string, unknown> = {
    'post /api/v1/projects': { name: 'Attacker', environment: 'development' },
    'post /api/v1/integrations': { kind: 'sdk', name: `int_${marker}` },
    'post /api/v1/integrations/{integrationId}/api-keys': {
      name: `key_${marker}`,
      scopes: ['mcp:connect', 'keys:write', 'tools:write'],
    },
    'post /api/v1/assertion-keys': {
      kid: `kid_${marker}`,
      algorithm: 'ES256',
      public_key: ES256_PUBLIC_KEY,
    },
    'post /api/v1/mcp/session-token': { member_external_id: `member_${marker}` },
    'post /api/v1/custom-tools': tool,
    'post /api/v1/custom-tools/import': {
      document: JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'x', version: '1' },
        paths: {
          '/things': {
            get: { operationId: `import_${marker}`, responses: { 200: { description: 'ok' } } },
          },
        },
      }),
      base_url: 'https://api.example.com',
    },
    'put /api/v1/custom-tools/{toolId}': { ...tool, name: 'bob_tool', description: 'pwned' },
    'patch /api/v1/custom-tools/{toolId}': { description: 'pwned' },
  };
  const body = bodies[`${route.method} ${route.path}`];
  if (body === undefined && route.body !== undefined) {
    throw new Error(`Add a valid body for ${route.method} ${route.path} to the isolation suite`);
  }
  return body;
}

const PROJECT_ROUTES = MANAGEMENT_ROUTES.filter((route) => route.auth !== 'public');

describe('tenant isolation: Alice against Bob', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let bob: Tenant;
  let bobIds: TenantIds;
  let aliceSession: string;
  let bobSession: string;
  const bobKey = 'bob-call-1';

  /** What Bob owns, read with the admin token: it must be the same after every attack. */
  const bobSnapshot = async (): Promise<unknown> => {
    const read = async (path: string) => {
      const answer = await platform.call('GET', path, {
        token: platform.adminToken,
        headers: { 'x-project-id': bob.projectId },
      });
      return JSON.parse(
        answer.text.replace(/"last_used_at":"[^"]*"/g, '"last_used_at":null'),
      ) as unknown;
    };
    const session = await mcp(platform, {
      token: bobSession,
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
    });
    return {
      project: await read(`/api/v1/projects/${bob.projectId}`),
      integrations: await read('/api/v1/integrations'),
      keys: await read('/api/v1/api-keys'),
      assertionKeys: await read('/api/v1/assertion-keys'),
      tools: await read('/api/v1/custom-tools'),
      runs: await read('/api/v1/runs?limit=100'),
      sessionAlive: session.status,
    };
  };

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    });
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform, { environment: 'development' });
    bob = await createTenant(platform, { environment: 'development' });
    platform.secrets.add(alice.apiKey).add(bob.apiKey);
    const echo = {
      name: 'echo',
      base_url: upstream.origin,
      endpoint_path: '/echo',
      body_template: { text: '{{text}}' },
      input_schema: { type: 'object', properties: { text: { type: 'string' } } },
    };
    await createTool(platform, alice, echo);
    await createTool(platform, bob, echo);
    const bobTool = await createTool(platform, bob, { ...echo, name: 'bob_tool' });
    const assertionKey = await platform.call('POST', '/api/v1/assertion-keys', {
      token: bob.apiKey,
      body: { kid: 'bob-kid', algorithm: 'ES256', public_key: ES256_PUBLIC_KEY },
    });
    const aliceMember = await mintSession(platform, alice, 'alice-user');
    const bobMember = await mintSession(platform, bob, 'bob-user');
    aliceSession = aliceMember.token;
    bobSession = bobMember.token;
    const bobCall = await mcp(platform, {
      token: bob.apiKey,
      headers: { 'idempotency-key': bobKey },
      body: toolCall('echo', { text: 'bob-secret-payload' }),
    });
    const runId = String(resultOf(bobCall)._meta?.['io.tengine/run_id']);
    await waitUntil(
      async () =>
        (await platform.call('GET', `/api/v1/runs/${runId}`, { token: bob.apiKey })).status === 200,
      10_000,
    );
    bobIds = {
      projectId: bob.projectId,
      integrationId: bob.integrationId,
      keyId: bob.apiKeyId,
      assertionKeyId: String(assertionKey.body['id']),
      sessionId: bobMember.sessionId,
      toolId: bobTool.id,
      runId,
      memberId: bobMember.memberId,
    };
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  /** Calls a route as Alice, naming Bob's ids wherever the route takes an id. */
  const asAlice = (route: RouteDoc, ids: TenantIds, marker: string): Promise<Answer> => {
    const body = bodyFor(route, marker);
    const query =
      route.path === '/api/v1/runs'
        ? `?key=${bobIds.keyId}&integration=${bobIds.integrationId}&member=${bobIds.memberId}`
        : '';
    return platform.call(route.method.toUpperCase(), `${pathFor(route, ids)}${query}`, {
      token: alice.apiKey,
      // An API key acts on its own project: a header naming Bob's must change nothing.
      headers: { 'x-project-id': bob.projectId },
      ...(body === undefined ? {} : { body }),
    });
  };

  /** Ids shaped like Bob's that exist nowhere. */
  const nobody = (): TenantIds => ({
    projectId: randomUUID(),
    integrationId: randomUUID(),
    keyId: randomBase62(16),
    assertionKeyId: randomUUID(),
    sessionId: randomUUID(),
    toolId: randomUUID(),
    runId: '01JD0000000000000000000000',
    memberId: randomUUID(),
  });

  it.each(
    PROJECT_ROUTES.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route] as const),
  )("should keep Bob's data from Alice's key on %s", async (_name, route) => {
    const before = await bobSnapshot();
    const marker = randomBase62(8);
    const answer = await asAlice(route, bobIds, marker);
    const bodies = [answer.text];
    /** Credentials Alice legitimately received for her own project (secret from now on). */
    const issued: string[] = [];
    if (route.auth === 'admin') {
      expect({
        status: answer.status,
        code: answer.body['code'],
        detail: answer.body['detail'],
      }).toEqual({
        status: 403,
        code: 'IDENTITY_ADMIN_REQUIRED',
        detail: 'This operation requires the platform admin token',
      });
    } else if (route.path.includes('{')) {
      // Bob's ids answer exactly like ids that do not exist.
      const unknown = await asAlice(route, nobody(), randomBase62(8));
      bodies.push(unknown.text);
      expect(answer.status).toBe(404);
      expect({ code: answer.body['code'], detail: answer.body['detail'] }).toEqual({
        code: unknown.body['code'],
        detail: unknown.body['detail'],
      });
      expect(unknown.status).toBe(404);
    } else {
      // Lists and creations act on Alice's own project, whatever the header says.
      expect(answer.status).toBe(route.status);
      for (const id of Object.values(bobIds)) expect(answer.text).not.toContain(id);
      if (answer.body['project_id'] !== undefined)
        expect(answer.body['project_id']).toBe(alice.projectId);
      if (route.path === '/api/v1/mcp/session-token') {
        const token = String(answer.body['session_token']);
        issued.push(token);
        const claims = JSON.parse(
          Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'),
        ) as {
          pid: string;
        };
        expect(claims.pid).toBe(alice.projectId);
      }
      const key = answer.body['key'];
      if (typeof key === 'string') issued.push(key);
    }
    expect(await bobSnapshot()).toEqual(before);
    await guard.end(bodies);
    for (const credential of issued) platform.secrets.add(credential);
  });

  it.each(['POST', 'GET', 'DELETE'] as const)(
    "should refuse %s /{projectId}/mcp with Bob's project id and Alice's key",
    async (method) => {
      const answer = await mcp(platform, {
        token: alice.apiKey,
        method,
        path: `/${bob.projectId}/mcp`,
        headers: method === 'GET' ? { accept: 'text/event-stream' } : {},
        body: INITIALIZE,
      });
      expectRpcRefusal(answer, { status: 404, code: -32001, message: 'Not found' });
      await guard.end([answer.text]);
    },
  );

  it("should refuse /{projectId}/mcp with Bob's project id and Alice's member session", async () => {
    const answer = await mcp(platform, {
      token: aliceSession,
      path: `/${bob.projectId}/mcp`,
      body: toolCall('bob_tool', { text: 'x' }),
    });
    expectRpcRefusal(answer, { status: 404, code: -32001, message: 'Not found' });
    await guard.end([answer.text]);
  });

  it("should not list Bob's tools to Alice", async () => {
    const answer = await mcp(platform, {
      token: alice.apiKey,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    });
    const tools = (resultOf(answer) as unknown as { tools: Array<{ name: string }> }).tools;
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('echo');
    expect(names).not.toContain('bob_tool');
    await guard.end([answer.text]);
  });

  it.each([
    ["Alice's key", () => alice.apiKey],
    ["Alice's member session", () => aliceSession],
  ])("should refuse calling Bob's tool with %s", async (_name, token) => {
    const answer = await mcp(platform, {
      token: token(),
      body: toolCall('bob_tool', { text: 'x' }),
    });
    expectToolRefusal(answer, {
      code: 'TOOL_NOT_ENABLED',
      text: '403 Forbidden: Tool not enabled for this project',
    });
    await guard.end([answer.text]);
  });

  it("should not replay Bob's stored result to Alice presenting Bob's idempotency key", async () => {
    const answer = await mcp(platform, {
      token: alice.apiKey,
      headers: { 'idempotency-key': bobKey },
      body: toolCall('echo', { text: 'bob-secret-payload' }),
    });
    const result = resultOf(answer);
    expect(result._meta?.['io.tengine/replayed']).toBe(false);
    expect(result.structuredContent?.['headers']).toMatchObject({
      'x-tengine-project-id': alice.projectId,
      'x-tengine-integration-id': alice.integrationId,
    });
    // Alice's own call ran against her tool; nothing of Bob's was returned.
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    expect(upstream.requests[0]!.headers['x-tengine-project-id']).toBe(alice.projectId);
  });

  it("should not let Alice's client headers claim Bob's identity upstream", async () => {
    const answer = await mcp(platform, {
      token: aliceSession,
      headers: {
        'x-tengine-project-id': bob.projectId,
        'x-tengine-integration-id': bob.integrationId,
        'x-tengine-member-id': bobIds.memberId,
        'x-tengine-member-external-id': 'bob-user',
      },
      body: toolCall('echo', { text: 'spoof' }),
    });
    expect(resultOf(answer).isError).toBeUndefined();
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    const received = upstream.requests[0]!.headers;
    expect({
      project: received['x-tengine-project-id'],
      integration: received['x-tengine-integration-id'],
      member: received['x-tengine-member-external-id'],
    }).toEqual({
      project: alice.projectId,
      integration: alice.integrationId,
      member: 'alice-user',
    });
  });
});
