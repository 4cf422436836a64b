import { randomBytes } from 'node:crypto';

import { AttackGuard } from './support/guard.js';
import { expectToolRefusal, mcp, resultOf, toolCall } from './support/mcp.js';
import {
  createTenant,
  createTool,
  startAttackPlatform,
  type Answer,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

/** Unique canaries: if any of them shows up anywhere but in the upstream's own request, it leaked. */
const canary = (what: string): string => `canary-${what}-${randomBytes(12).toString('hex')}`;
const BEARER = canary('bearer');
const BEARER_REPLACED = canary('replaced');
const BEARER_IMPORTED = canary('imported');
const BEARER_REJECTED = canary('rejected');
const BEARER_BROKEN = `${canary('broken')}\r\nX-Injected: 1`;
const HMAC_KEY = Buffer.from(canary('hmac'), 'utf8');
const HMAC = `whsec_${HMAC_KEY.toString('base64')}`;

describe('tool secrets are never readable back', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  const tools: Record<string, string> = {};
  const creations: Answer[] = [];
  const runs: string[] = [];

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    });
    for (const secret of [BEARER, BEARER_REPLACED, BEARER_IMPORTED, BEARER_REJECTED, HMAC]) {
      platform.secrets.add(secret);
    }
    platform.secrets.add(BEARER_BROKEN.split('\r')[0]!).add(HMAC_KEY.toString('base64'));
    platform.secrets.add(HMAC_KEY.toString('utf8'));
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform);
    platform.secrets.add(alice.apiKey);
    const bearer = (name: string, method: string, path: string, secret = BEARER) => ({
      name,
      method,
      base_url: upstream.origin,
      endpoint_path: path,
      auth_strategy: 'bearer',
      encrypted_auth_secret: secret,
    });
    const definitions = [
      bearer('bearer_echo', 'POST', '/echo'),
      bearer('bearer_fail', 'GET', '/fail-echo'),
      bearer('bearer_binary', 'GET', '/echo-binary'),
      bearer('bearer_broken', 'GET', '/echo', BEARER_BROKEN),
      bearer('doomed', 'GET', '/echo'),
      {
        name: 'hmac_echo',
        method: 'POST',
        base_url: upstream.origin,
        endpoint_path: '/echo',
        auth_strategy: 'hmac_signature',
        encrypted_auth_secret: HMAC,
      },
    ];
    for (const definition of definitions) {
      const created = await platform.call('POST', '/api/v1/custom-tools', {
        token: alice.apiKey,
        body: {
          description: 'secret tool',
          input_schema: { type: 'object', properties: {} },
          ...definition,
        },
      });
      if (created.status !== 201) throw new Error(`tool ${definition.name}: ${created.text}`);
      creations.push(created);
      tools[definition.name] = String(created.body['id']);
    }
    await createTool(platform, alice, {
      name: 'plain',
      method: 'GET',
      base_url: upstream.origin,
      endpoint_path: '/echo',
    });
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  const get = (path: string, token: string | undefined = alice.apiKey) =>
    platform.call('GET', path, { token });

  it('should not return the secret in the replies that created the tools', async () => {
    expect(creations.map((answer) => answer.body['auth_strategy'])).toContain('bearer');
    await guard.end(creations.map((answer) => answer.text));
  });

  it.each([
    ['GET a bearer tool', () => get(`/api/v1/custom-tools/${tools['bearer_echo']}`)],
    ['GET an hmac_signature tool', () => get(`/api/v1/custom-tools/${tools['hmac_echo']}`)],
    ['GET the tool list', () => get('/api/v1/custom-tools')],
    ['GET the tool list one by one', () => get('/api/v1/custom-tools?limit=1')],
    [
      'GET a tool with the admin token',
      () =>
        platform.call('GET', `/api/v1/custom-tools/${tools['bearer_echo']}`, {
          token: platform.adminToken,
          headers: { 'x-project-id': alice.projectId },
        }),
    ],
    [
      'PATCH a tool',
      () =>
        platform.call('PATCH', `/api/v1/custom-tools/${tools['bearer_echo']}`, {
          token: alice.apiKey,
          body: { description: 'patched' },
        }),
    ],
    [
      'POST disable',
      () =>
        platform.call('POST', `/api/v1/custom-tools/${tools['bearer_binary']}/disable`, {
          token: alice.apiKey,
        }),
    ],
    [
      'POST enable',
      () =>
        platform.call('POST', `/api/v1/custom-tools/${tools['bearer_binary']}/enable`, {
          token: alice.apiKey,
        }),
    ],
    [
      'PUT a tool with a new secret',
      () =>
        platform.call('PUT', `/api/v1/custom-tools/${tools['doomed']}`, {
          token: alice.apiKey,
          body: {
            name: 'doomed',
            description: 'replaced',
            method: 'GET',
            base_url: upstream.origin,
            endpoint_path: '/echo',
            input_schema: { type: 'object', properties: {} },
            auth_strategy: 'bearer',
            encrypted_auth_secret: BEARER_REPLACED,
          },
        }),
    ],
    [
      'DELETE a tool',
      () =>
        platform.call('DELETE', `/api/v1/custom-tools/${tools['doomed']}`, { token: alice.apiKey }),
    ],
    [
      'an OpenAPI import with a secret',
      () =>
        platform.call('POST', '/api/v1/custom-tools/import', {
          token: alice.apiKey,
          body: {
            document: JSON.stringify({
              openapi: '3.1.0',
              info: { title: 'x', version: '1' },
              paths: {
                '/a': {
                  get: { operationId: 'imported_a', responses: { 200: { description: 'ok' } } },
                },
              },
            }),
            base_url: upstream.origin,
            auth_strategy: 'bearer',
            encrypted_auth_secret: BEARER_IMPORTED,
          },
        }),
    ],
    [
      'the MCP tool list',
      () =>
        mcp(platform, {
          token: alice.apiKey,
          body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        }),
    ],
    ['the OpenAPI document', () => get('/api/v1/openapi.json', undefined)],
    ['the status page', () => get('/api/v1/status', undefined)],
    ['the metrics', () => get('/metrics', undefined)],
    ['the health report', () => get('/health', undefined)],
  ])('should not reveal any secret through %s', async (_name, read) => {
    const answer = await read();
    expect(answer.status).toBeLessThan(300);
    await guard.end([answer.text]);
  });

  it('should publish only public keys at /.well-known/jwks.json', async () => {
    const answer = await get('/.well-known/jwks.json', undefined);
    const keys = (answer.body as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.length).toBeGreaterThan(0);
    expect(
      keys.flatMap((key) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].filter((field) => field in key)),
    ).toEqual([]);
    await guard.end([answer.text]);
  });

  it('should list API keys without the keys', async () => {
    const answer = await get('/api/v1/api-keys');
    expect(answer.status).toBe(200);
    await guard.end([answer.text]);
  });

  it.each([
    [
      'over plain http to a host that is not allowed',
      { base_url: 'http://internal.example', auth_strategy: 'bearer' },
      400,
      'base_url must use HTTPS',
    ],
    [
      "with auth_strategy 'none'",
      { auth_strategy: 'none' },
      400,
      "encrypted_auth_secret is only used when auth_strategy is 'bearer' or 'hmac_signature'",
    ],
    [
      'under a name already taken',
      { name: 'bearer_echo', auth_strategy: 'bearer' },
      409,
      undefined,
    ],
  ])('should not echo a secret refused %s', async (_name, overrides, status, detail) => {
    const answer = await platform.call('POST', '/api/v1/custom-tools', {
      token: alice.apiKey,
      body: {
        name: 'refused',
        description: 'x',
        method: 'GET',
        base_url: upstream.origin,
        endpoint_path: '/x',
        input_schema: { type: 'object', properties: {} },
        encrypted_auth_secret: BEARER_REJECTED,
        ...overrides,
      },
    });
    expect(answer.status).toBe(status);
    if (detail !== undefined) expect(answer.body['detail']).toBe(detail);
    await guard.end([answer.text]);
  });

  it('should not echo a secret of the wrong type', async () => {
    const answer = await platform.call('POST', '/api/v1/custom-tools', {
      token: alice.apiKey,
      body: {
        name: 'typed',
        description: 'x',
        method: 'GET',
        base_url: upstream.origin,
        endpoint_path: '/x',
        input_schema: { type: 'object', properties: {} },
        auth_strategy: 'bearer',
        encrypted_auth_secret: [BEARER_REJECTED],
      },
    });
    expect({ status: answer.status, code: answer.body['code'] }).toEqual({
      status: 422,
      code: 'VALIDATION_FAILED',
    });
    await guard.end([answer.text]);
  });

  const callTool = async (name: string): Promise<Answer> => {
    const answer = await mcp(platform, { token: alice.apiKey, body: toolCall(name) });
    const runId = resultOf(answer)._meta?.['io.tengine/run_id'];
    if (typeof runId === 'string') runs.push(runId);
    return answer;
  };

  it('should scrub the secret from an API that echoes its Authorization header', async () => {
    const answer = await callTool('bearer_echo');
    const result = resultOf(answer);
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent?.['headers']).toMatchObject({
      authorization: 'Bearer [REDACTED]',
    });
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    // The API itself did receive the secret (that is its purpose), never the caller's key.
    expect(upstream.requests[0]!.headers['authorization']).toBe(`Bearer ${BEARER}`);
    expect(JSON.stringify(upstream.requests[0])).not.toContain(alice.apiKey);
  });

  it('should scrub the secret from an error page that quotes it', async () => {
    const answer = await callTool('bearer_fail');
    expectToolRefusal(answer, {
      code: 'EXECUTOR_UPSTREAM_NON_2XX',
      status: 502,
      text: 'your API answered 500: denied for Bearer [REDACTED]',
    });
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
  });

  it('should scrub the secret from a binary body that echoes it', async () => {
    const answer = await callTool('bearer_binary');
    const result = resultOf(answer);
    const text = result.content.map((part) => part.text).join('');
    expect(Buffer.from(text, 'base64').toString('utf8')).toBe('auth=Bearer [REDACTED]');
    await guard.end(
      [answer.text, Buffer.from(text, 'base64').toString('utf8')],
      [{ upstream, requests: 1 }],
    );
  });

  it('should not reveal the hmac secret to an API that echoes every header', async () => {
    const answer = await callTool('hmac_echo');
    expect(resultOf(answer).isError).toBeUndefined();
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
  });

  it('should refuse an unusable stored secret without quoting it', async () => {
    const answer = await callTool('bearer_broken');
    expectToolRefusal(answer, {
      code: 'EXECUTOR_SECRET_DECRYPT_FAILED',
      status: 500,
      text: '500 Internal Server Error: Failed to decrypt auth secret',
    });
    await guard.end([answer.text]);
  });

  it('should not reveal any secret through the Runs of those calls and the usage report', async () => {
    const bodies: string[] = [];
    for (const runId of runs) {
      let answer = await get(`/api/v1/runs/${runId}`);
      for (let attempt = 0; answer.status === 404 && attempt < 50; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await get(`/api/v1/runs/${runId}`);
      }
      expect(answer.status).toBe(200);
      bodies.push(answer.text);
    }
    bodies.push((await get('/api/v1/runs?limit=100')).text, (await get('/api/v1/usage')).text);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    await guard.end(bodies);
  });

  it('should keep the secrets sealed at rest', async () => {
    const rows = await platform.query<{ row: string }>(
      'SELECT row_to_json(v)::text AS row FROM registry.tool_versions v',
    );
    expect(rows.length).toBeGreaterThan(0);
    await guard.end(rows.map((row) => row.row));
  });
});
