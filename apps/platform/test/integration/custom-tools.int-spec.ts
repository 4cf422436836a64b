import { readFileSync } from 'node:fs';

import { toolBody } from '../support/mcp-client.js';
import { createProject, startStack, type ProjectFixture, type Stack } from '../support/stack.js';

describe('custom tools through the gateway management API', () => {
  let stack: Stack;
  let project: ProjectFixture;
  let other: ProjectFixture;

  beforeAll(async () => {
    stack = await startStack();
    project = await createProject(stack);
    other = await createProject(stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const create = (body: Record<string, unknown>, token = project.apiKey) =>
    stack.call<{ detail: unknown; id?: string; version?: number; code?: string }>(
      'POST',
      '/api/v1/custom-tools',
      { token, body },
    );

  it.each([
    [
      'Reserved variable cannot be provided as user input',
      { input_schema: { type: 'object', properties: { member_id: { type: 'string' } } } },
    ],
    ['base_url must use HTTPS', { base_url: 'http://api.example.com' }],
    ['base_url must be origin-only (no paths)', { base_url: 'https://api.example.com/v1' }],
    ['endpoint_path must start with /', { endpoint_path: 'echo' }],
    [
      'endpoint_path uses {{member_id}} but require_member=False',
      { endpoint_path: '/users/{{member_id}}' },
    ],
    [
      "encrypted_auth_secret is required when auth_strategy is 'hmac_signature'",
      { auth_strategy: 'hmac_signature' },
    ],
  ])('400 %s', async (detail, overrides) => {
    const response = await create(toolBody('rule_check', overrides));
    expect(response.status).toBe(400);
    expect(response.body.detail).toBe(detail);
    expect(response.body.code).toBe('REGISTRY_TOOL_INVALID');
  });

  it('422 Validation error naming the failing field', async () => {
    const response = await create(
      toolBody('bad_schema', {
        input_schema: { type: 'object', properties: { a: { type: 'strin' } } },
      }),
    );
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body.detail)).toContain('input_schema');
    const bad = await create(toolBody('bad name!', {}));
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.detail)).toContain('name');
  });

  it('should let exactly one of concurrent PATCHes with the same expected_version win', async () => {
    const tool = await create(toolBody('contended'));
    expect(tool.status).toBe(201);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        stack.call('PATCH', `/api/v1/custom-tools/${String(tool.body.id)}`, {
          token: project.apiKey,
          body: { expected_version: 1, description: `edit ${index}` },
        }),
      ),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    const conflicts = responses.filter((response) => response.status === 409);
    expect(conflicts).toHaveLength(9);
    expect(conflicts[0]?.body['code']).toBe('REGISTRY_TOOL_VERSION_CONFLICT');
  });

  it('should never return a secret, only that it is set and its last four characters', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const tool = await create(
      toolBody('signed', { auth_strategy: 'hmac_signature', encrypted_auth_secret: secret }),
    );
    expect(tool.status).toBe(201);
    const read = await stack.call('GET', `/api/v1/custom-tools/${String(tool.body.id)}`, {
      token: project.apiKey,
    });
    expect(JSON.stringify(read.body)).not.toContain(secret);
    expect(read.body['auth_secret']).toEqual({ set: true, last4: secret.slice(-4) });
    const listed = await stack.call('GET', '/api/v1/custom-tools', { token: project.apiKey });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('should answer 404 to every cross-project probe on tools, integrations and keys', async () => {
    const tool = await create(toolBody('private_tool'));
    const id = String(tool.body.id);
    const probes = [
      stack.call('GET', `/api/v1/custom-tools/${id}`, { token: other.apiKey }),
      stack.call('PATCH', `/api/v1/custom-tools/${id}`, {
        token: other.apiKey,
        body: { description: 'mine now' },
      }),
      stack.call('DELETE', `/api/v1/custom-tools/${id}`, { token: other.apiKey }),
      stack.call('POST', `/api/v1/custom-tools/${id}/disable`, { token: other.apiKey }),
      stack.call('GET', `/api/v1/integrations/${project.integrationId}`, { token: other.apiKey }),
      stack.call('DELETE', `/api/v1/integrations/${project.integrationId}`, {
        token: other.apiKey,
      }),
      stack.call('POST', `/api/v1/integrations/${project.integrationId}/api-keys`, {
        token: other.apiKey,
        body: { name: 'x', scopes: ['mcp:connect'] },
      }),
      stack.call('DELETE', `/api/v1/api-keys/${project.apiKeyId}`, { token: other.apiKey }),
    ];
    const responses = await Promise.all(probes);
    expect(responses.map((response) => response.status)).toEqual([
      404, 404, 404, 404, 404, 404, 404, 404,
    ]);
    const unknown = await stack.call(
      'GET',
      '/api/v1/custom-tools/00000000-0000-4000-8000-000000000000',
      { token: other.apiKey },
    );
    expect(unknown.body['detail']).toBe(responses[0]?.body['detail']);
    // The tool is untouched.
    expect(
      (await stack.call('GET', `/api/v1/custom-tools/${id}`, { token: project.apiKey })).body[
        'version'
      ],
    ).toBe(1);
  });

  it('should import the pet shop OpenAPI document into working tool definitions', async () => {
    const document = readFileSync('apps/registry/test/fixtures/pet-shop.openapi.yaml', 'utf8');
    const dryRun = await stack.call<{
      created: Array<{ definition: { name: string } }>;
      skipped: unknown[];
    }>('POST', '/api/v1/custom-tools/import', {
      token: project.apiKey,
      body: { document, base_url: 'https://petstore.example.com', dry_run: true },
    });
    expect(dryRun.status).toBe(200);
    expect(dryRun.body.created.length).toBeGreaterThan(2);
    const imported = await stack.call<{ created: Array<{ id: string }> }>(
      'POST',
      '/api/v1/custom-tools/import',
      {
        token: project.apiKey,
        body: { document, base_url: 'https://petstore.example.com', is_enabled: true },
      },
    );
    expect(imported.status).toBe(200);
    expect(imported.body.created.every((tool) => typeof tool.id === 'string')).toBe(true);
  });

  it('403 naming tools:write for a key without it', async () => {
    const limited = await createProject(stack, { scopes: ['mcp:connect'] });
    const response = await create(toolBody('nope'), limited.apiKey);
    expect(response.status).toBe(403);
    expect(response.body.detail).toBe('API key is missing the required scope: tools:write');
  });
});
