import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Ajv2020 } from 'ajv/dist/2020.js';

import { OPENAPI_DOCUMENT_MAX_BYTES, Subjects, type ImportToolsReply } from '@tengine/contracts';
import type { RunningService } from '@tengine/runtime';
import { waitUntil } from '@tengine/testing';

import {
  collectToolEvents,
  expectError,
  newProject,
  registryHarness,
  rejectionOf,
  secretKey,
  toolRequest,
  type RegistryHarness,
} from './registry-harness.js';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');

const recursive: unknown = expect.stringContaining('Recursive');

const PET_SHOP = fixture('pet-shop.openapi.yaml');
const ORG_CHART = fixture('org-chart.openapi.json');

const PET_SHOP_TOOLS = [
  'updatePet',
  'addPet',
  'findPetsByStatus',
  'getPetById',
  'updatePetWithForm',
  'deletePet',
  'getInventory',
  'placeOrder',
  'getOrderById',
  'deleteOrder',
  'createUser',
  'createUsersWithListInput',
  'loginUser',
  'getUserByName',
  'updateUser',
  'deleteUser',
];

describe('OpenAPI import', () => {
  let harness: RegistryHarness;
  let registry: RunningService;

  beforeAll(async () => {
    harness = await registryHarness();
    registry = await harness.start({ TENGINE_SECRET_KEYS: secretKey('k1') });
  });

  afterAll(() => harness.close());

  const importDocument = (projectId: string, document: string, extra: object = {}) =>
    registry.bus.request(Subjects.registry.toolImport, {
      projectId,
      document,
      base_url: 'https://shop.example.test',
      dry_run: false,
      is_enabled: false,
      auth_strategy: 'none',
      ...extra,
    });

  it('should show what a dry run would create, and store nothing', async () => {
    const projectId = await newProject(registry);
    const reply = await importDocument(projectId, PET_SHOP, { dry_run: true });
    expect(reply.dry_run).toBe(true);
    expect(reply.created.map((tool) => tool.definition.name)).toEqual(PET_SHOP_TOOLS);
    expect(reply.created.every((tool) => tool.id === null && tool.version === null)).toBe(true);
    expect(reply.skipped).toEqual([
      { operation: 'HEAD /pet/{petId}', reason: 'method HEAD is not supported by tools' },
      {
        operation: 'POST /pet/{petId}/photo',
        reason: 'request body media type application/octet-stream is not supported (JSON only)',
      },
    ]);
    await expect(
      registry.bus.request(Subjects.registry.toolListAll, { projectId }),
    ).resolves.toMatchObject({ items: [], toolListVersion: 0 });
  });

  it('should turn every operation of a Petstore-style document into a working, disabled tool', async () => {
    const projectId = await newProject(registry);
    const { events, stop } = collectToolEvents(registry);
    let reply: ImportToolsReply;
    try {
      reply = await importDocument(projectId, PET_SHOP);
      await waitUntil(
        () =>
          Promise.resolve(events.filter((event) => event.projectId === projectId).length === 16),
        5_000,
        20,
      );
    } finally {
      stop();
    }
    expect(reply.created).toHaveLength(16);
    expect(events.filter((event) => event.projectId === projectId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ change: 'created', toolName: 'getPetById', toolListVersion: 1 }),
      ]),
    );
    const all = await registry.bus.request(Subjects.registry.toolListAll, { projectId });
    expect(all.items.map((tool) => tool.name).sort()).toEqual([...PET_SHOP_TOOLS].sort());
    expect(all.items.every((tool) => !tool.is_enabled && tool.version === 1)).toBe(true);

    const getPet = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'getPetById',
    });
    expect(getPet).toMatchObject({
      method: 'GET',
      base_url: 'https://shop.example.test',
      endpoint_path: '/api/v3/pet/{{petId}}',
      body_template: null,
      input_schema: {
        type: 'object',
        properties: {
          petId: { type: 'integer', format: 'int64', minimum: 1, description: 'Id of the pet' },
        },
        required: ['petId'],
        additionalProperties: false,
      },
      annotations: { title: 'One pet', readOnlyHint: true, openWorldHint: true },
    });

    const addPet = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'addPet',
    });
    expect(addPet).toMatchObject({ method: 'POST', body_template: '{{body}}' });
    const petSchema = (
      addPet.input_schema['properties'] as Record<string, Record<string, unknown>>
    )['body'];
    expect(petSchema).toMatchObject({
      type: 'object',
      required: ['name', 'photoUrls'],
      properties: {
        category: { type: 'object', properties: { name: { type: 'string', examples: ['Dogs'] } } },
        tags: { type: 'array', items: { type: 'object' } },
        nickname: { type: ['string', 'null'] },
      },
    });
    // The imported schema validates real arguments, as the gateway will.
    const validate = new Ajv2020({ strict: false, logger: false }).compile(addPet.input_schema);
    expect(validate({ body: { name: 'Rex', photoUrls: [], nickname: null } })).toBe(true);
    expect(validate({ body: { name: 'Rex' } })).toBe(false);

    const exclusive = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'getOrderById',
    });
    expect(exclusive.input_schema['properties']).toEqual({
      orderId: { type: 'integer', minimum: 1, exclusiveMaximum: 10 },
    });
    const deletePet = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'deletePet',
    });
    expect(deletePet).toMatchObject({
      header_template: { 'X-Shop-Reason': '{{X_Shop_Reason}}' },
      annotations: { destructiveHint: true },
    });
    const login = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'loginUser',
    });
    expect(login.query_template).toEqual({ username: '{{username}}', password: '{{password}}' });

    // Importing the same document again keeps the existing tools and de-duplicates the new names.
    const again = await importDocument(projectId, PET_SHOP, { dry_run: true });
    expect(again.created[0]?.definition.name).toBe('updatePet_2');
  });

  it('should import a document with circular $refs without recursing forever', async () => {
    const projectId = await newProject(registry);
    const reply = await importDocument(projectId, ORG_CHART, {
      base_url: 'https://people.example.test',
      is_enabled: true,
      auth_strategy: 'bearer',
      encrypted_auth_secret: 'people-api-token-0123456789',
    });
    expect(reply.created.map((tool) => [tool.operation, tool.definition.name])).toEqual([
      ['GET /people', 'get_people'],
      ['POST /people', 'people_create'],
      ['GET /people/{personId}', 'people_create_2'],
      ['PUT /teams/{teamId}', 'replaceTeam'],
      ['POST /policies', 'createPolicy'],
      ['GET /members/{member_id}/preferences', 'getMyPreferences'],
    ]);
    expect(reply.skipped).toEqual([
      { operation: 'GET /sessions', reason: 'required cookie parameter "sid" is not supported' },
    ]);
    for (const tool of reply.created) {
      expect(tool.definition.auth_secret).toEqual({ set: true, last4: '6789' });
      expect(JSON.stringify(tool)).not.toContain('people-api-token');
    }

    const person = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'people_create',
    });
    const body = (person.input_schema['properties'] as Record<string, Record<string, unknown>>)[
      'body'
    ];
    expect(body).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: {
        manager: { description: recursive },
        team: { type: 'object', properties: { lead: { description: recursive } } },
      },
    });
    const search = await registry.bus.request(Subjects.registry.toolGet, {
      projectId,
      name: 'get_people',
    });
    expect(search.query_template).toEqual({
      'team-id': '{{team_id}}',
      'page size': '{{page_size}}',
    });
    const preferences = await registry.bus.request(Subjects.registry.toolResolve, {
      projectId,
      name: 'getMyPreferences',
    });
    expect(preferences).toMatchObject({
      secret: 'people-api-token-0123456789',
      tool: {
        require_member: true,
        endpoint_path: '/members/{{member_id}}/preferences',
        input_schema: { type: 'object', properties: {} },
      },
    });
    const visible = await registry.bus.request(Subjects.registry.toolList, {
      projectId,
      scopes: ['mcp:connect'],
      isMember: false,
    });
    expect(visible.tools.map((tool) => tool.name)).not.toContain('getMyPreferences');
    expect(visible.tools).toHaveLength(5);
  });

  it('should refuse documents that are not OpenAPI 3.0/3.1, saying why', async () => {
    const projectId = await newProject(registry);
    const swagger = await rejectionOf(
      importDocument(projectId, JSON.stringify({ swagger: '2.0', info: {}, paths: {} })),
    );
    expect(swagger).toMatchObject({
      code: 'REGISTRY_OPENAPI_INVALID',
      message:
        'The OpenAPI document is invalid: only OpenAPI 3.0 and 3.1 are supported (found Swagger 2.0)',
    });
    const garbage = await rejectionOf(importDocument(projectId, 'openapi: [unclosed'));
    expect(garbage.code).toBe('REGISTRY_OPENAPI_INVALID');
    expect(garbage.message).toContain('neither JSON nor YAML');
    const invalid = await rejectionOf(
      importDocument(projectId, 'openapi: 3.0.3\ninfo: {version: "1"}\npaths: {}\n'),
    );
    expect(invalid.code).toBe('REGISTRY_OPENAPI_INVALID');
    expect(invalid.message).toContain("must have required property 'title'");
    const dangling = await rejectionOf(
      importDocument(
        projectId,
        JSON.stringify({
          openapi: '3.1.0',
          info: { title: 't', version: '1' },
          paths: {
            '/a': {
              post: {
                requestBody: {
                  content: {
                    'application/json': { schema: { $ref: '#/components/schemas/Nope' } },
                  },
                },
                responses: { '200': { description: 'ok' } },
              },
            },
          },
        }),
      ),
    );
    expect(dangling.code).toBe('REGISTRY_OPENAPI_INVALID');
    const bomb = await rejectionOf(
      importDocument(
        projectId,
        `openapi: 3.0.3\nx: &a [*a, *a]\ninfo: {title: t, version: "1"}\npaths: {}\n`,
      ),
    );
    expect(bomb.code).toBe('REGISTRY_OPENAPI_INVALID');
  });

  it('should apply the tool rules to the import itself: base URL, secrets and size', async () => {
    const projectId = await newProject(registry);
    await expectError(
      importDocument(projectId, PET_SHOP, { base_url: 'http://shop.example.test' }),
      'REGISTRY_TOOL_INVALID',
      'base_url must use HTTPS',
    );
    await expectError(
      importDocument(projectId, PET_SHOP, { base_url: 'https://shop.example.test/api/v3' }),
      'REGISTRY_TOOL_INVALID',
      'base_url must be origin-only (no paths)',
    );
    await expectError(
      importDocument(projectId, PET_SHOP, { auth_strategy: 'hmac_signature' }),
      'REGISTRY_TOOL_INVALID',
      "encrypted_auth_secret is required when auth_strategy is 'hmac_signature'",
    );
    const tooLarge = await rejectionOf(
      importDocument(projectId, '\n'.repeat(OPENAPI_DOCUMENT_MAX_BYTES / 2)),
    );
    expect(tooLarge.code).toBe('VALIDATION_FAILED');
    expect(tooLarge.details?.['issues']).toEqual([expect.objectContaining({ path: 'document' })]);
  });

  it('should skip operations whose tool would break a rule, and still import the rest', async () => {
    const projectId = await newProject(registry);
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, { name: 'existing' }),
    );
    const document = JSON.stringify({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/ok': { get: { operationId: 'existing', responses: { '200': { description: 'ok' } } } },
        '/evil': {
          post: {
            operationId: 'evil',
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { q: { type: 'string', pattern: '(x+x+)+y' } },
                  },
                },
              },
            },
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    const reply = await importDocument(projectId, document);
    const patternReason: unknown = expect.stringContaining(
      'input_schema.properties.body.properties.q.pattern',
    );
    expect(reply.created.map((tool) => tool.definition.name)).toEqual(['existing_2']);
    expect(reply.skipped).toEqual([
      {
        operation: 'POST /evil',
        reason: patternReason,
      },
    ]);
  });
});
