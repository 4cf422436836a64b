import { randomUUID } from 'node:crypto';

import { Subjects, TOOL_ERROR_DETAILS, type Tool } from '@tengine/contracts';
import type { RunningService } from '@tengine/runtime';
import { captureLogger, waitUntil } from '@tengine/testing';

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

describe('custom tools over NATS', () => {
  let harness: RegistryHarness;
  let registry: RunningService;
  const logs = captureLogger('registry');

  beforeAll(async () => {
    harness = await registryHarness();
    registry = await harness.start({ TENGINE_SECRET_KEYS: secretKey('k1') }, logs);
  });

  afterAll(() => harness.close());

  const create = (body: ReturnType<typeof toolRequest>) =>
    registry.bus.request(Subjects.registry.toolCreate, body);

  describe('registration', () => {
    it('should create a tool, read it back by id and by name, and normalize base_url to its origin', async () => {
      const projectId = await newProject(registry);
      const created = await create(
        toolRequest(projectId, { base_url: 'https://API.Example.com:443/' }),
      );
      expect(created).toMatchObject({
        project_id: projectId,
        name: 'get_order',
        version: 1,
        base_url: 'https://api.example.com',
        endpoint_path: '/orders/{{order_id}}',
        auth_strategy: 'none',
        auth_secret: { set: false, last4: null },
        is_enabled: true,
        timeout_ms: 10_000,
        annotations: { readOnlyHint: true },
      });
      const byId = await registry.bus.request(Subjects.registry.toolGet, {
        projectId,
        toolId: created.id,
      });
      const byName = await registry.bus.request(Subjects.registry.toolGet, {
        projectId,
        name: 'get_order',
      });
      expect(byId).toEqual(created);
      expect(byName).toEqual(created);
    });

    it('should apply the documented defaults to a minimal definition', async () => {
      const projectId = await newProject(registry);
      const created = await create({
        projectId,
        name: 'ping',
        method: 'GET',
        base_url: 'https://api.example.com',
        endpoint_path: '/ping',
      } as ReturnType<typeof toolRequest>);
      expect(created).toMatchObject({
        description: '',
        input_schema: { type: 'object', properties: {} },
        auth_strategy: 'none',
        require_member: false,
        is_enabled: true,
        timeout_ms: 10_000,
        required_scope: null,
        annotations: {},
        query_template: null,
        header_template: null,
        body_template: null,
      });
    });

    // The two reference tables, row by row: status class (code) and exact detail (message).
    it.each([
      [
        'a reserved variable declared as input (member_id)',
        {
          input_schema: {
            type: 'object',
            properties: { order_id: { type: 'string' }, member_id: { type: 'string' } },
          },
        },
        TOOL_ERROR_DETAILS.reservedVariable,
      ],
      [
        'a reserved variable declared as input (project_id)',
        { input_schema: { type: 'object', properties: { order_id: {}, project_id: {} } } },
        'Reserved variable cannot be provided as user input',
      ],
      [
        'a reserved variable declared as input (integration_id)',
        { input_schema: { type: 'object', properties: { order_id: {}, integration_id: {} } } },
        'Reserved variable cannot be provided as user input',
      ],
      ['an http:// base_url', { base_url: 'http://api.example.com' }, 'base_url must use HTTPS'],
      ['a base_url without scheme', { base_url: 'api.example.com' }, 'base_url must use HTTPS'],
      [
        'an endpoint_path without leading slash',
        { endpoint_path: 'orders/{{order_id}}' },
        'endpoint_path must start with /',
      ],
      [
        'a base_url with a path',
        { base_url: 'https://api.example.com/v1' },
        'base_url must be origin-only (no paths)',
      ],
      [
        'hmac_signature without a secret',
        { auth_strategy: 'hmac_signature' },
        "encrypted_auth_secret is required when auth_strategy is 'hmac_signature'",
      ],
      [
        'bearer without a secret',
        { auth_strategy: 'bearer' },
        "encrypted_auth_secret is required when auth_strategy is 'bearer'",
      ],
      [
        '{{member_id}} in endpoint_path with require_member=false',
        { endpoint_path: '/members/{{member_id}}/orders/{{order_id}}' },
        'endpoint_path uses {{member_id}} but require_member=False',
      ],
      [
        '{{member_id}} in a header template with require_member=false',
        { header_template: { 'X-Member': '{{member_id}}' } },
        'endpoint_path uses {{member_id}} but require_member=False',
      ],
      [
        'userinfo in base_url',
        { base_url: 'https://user:pass@api.example.com' },
        'base_url must not contain credentials (userinfo)',
      ],
      [
        'a query in base_url',
        { base_url: 'https://api.example.com?debug=1' },
        'base_url must be origin-only (no query or fragment)',
      ],
      [
        'a fragment in base_url',
        { base_url: 'https://api.example.com#x' },
        'base_url must be origin-only (no query or fragment)',
      ],
      [
        'a templated host',
        { base_url: 'https://{{tenant}}.example.com' },
        'base_url must have a static host (no {{…}} placeholders)',
      ],
      [
        'a secret with auth_strategy none',
        { encrypted_auth_secret: 'sk_live_0123456789abcdef' },
        "encrypted_auth_secret is only used when auth_strategy is 'bearer' or 'hmac_signature'",
      ],
    ])('should answer 400 for %s with the reference detail', async (_case, overrides, detail) => {
      const projectId = await newProject(registry);
      await expectError(create(toolRequest(projectId, overrides)), 'REGISTRY_TOOL_INVALID', detail);
    });

    it('should accept {{member_id}} and the other reserved variables when the tool requires a member', async () => {
      const projectId = await newProject(registry);
      const created = await create(
        toolRequest(projectId, {
          endpoint_path: '/members/{{member_id}}/orders/{{order_id}}',
          header_template: { 'X-Project': '{{project_id}}', 'X-Integration': '{{integration_id}}' },
          require_member: true,
        }),
      );
      expect(created.require_member).toBe(true);
    });

    it.each([
      [
        'a malformed JSON schema',
        { input_schema: { type: 'object', properties: { order_id: { type: 'strin' } } } },
        'input_schema.properties.order_id.type',
      ],
      ['a non-object schema root', { input_schema: { type: 'array' } }, 'input_schema.type'],
      [
        'a pathological pattern',
        {
          input_schema: {
            type: 'object',
            properties: { order_id: { type: 'string', pattern: '^(a+)+$' } },
          },
        },
        'input_schema.properties.order_id.pattern',
      ],
      [
        'an over-long pattern',
        {
          input_schema: {
            type: 'object',
            properties: { order_id: { type: 'string', pattern: 'a'.repeat(600) } },
          },
        },
        'input_schema.properties.order_id.pattern',
      ],
      [
        'a reference that does not resolve',
        {
          input_schema: {
            type: 'object',
            properties: { order_id: { $ref: '#/$defs/missing' } },
          },
        },
        'input_schema',
      ],
      [
        'a template variable the schema does not declare',
        { endpoint_path: '/orders/{{order_id}}/lines/{{line}}' },
        'endpoint_path',
      ],
      [
        'an undeclared variable in a query template',
        { query_template: { expand: '{{expand}}' } },
        'query_template.expand',
      ],
      ['a malformed placeholder', { endpoint_path: '/orders/{{order_id' }, 'endpoint_path'],
      ['an out-of-range timeout', { timeout_ms: 5 }, 'timeout_ms'],
      ['an unknown method', { method: 'HEAD' }, 'method'],
      ['a name breaking the MCP rules', { name: 'get order!' }, 'name'],
      ['a name over 64 characters', { name: 'x'.repeat(65) }, 'name'],
      ['an unknown auth strategy', { auth_strategy: 'basic' }, 'auth_strategy'],
      ['an unknown scope', { required_scope: 'admin:all' }, 'required_scope'],
      ['a body on GET', { body_template: { id: '{{order_id}}' } }, 'body_template'],
      [
        'a templated Authorization header',
        { header_template: { Authorization: 'Bearer {{order_id}}' } },
        'header_template.Authorization',
      ],
      ['an unknown field', { surprise: true }, '(root)'],
    ])('should answer 422 naming the field for %s', async (_case, overrides, path) => {
      const projectId = await newProject(registry);
      const error = await rejectionOf(create(toolRequest(projectId, overrides)));
      expect(error.code).toBe('VALIDATION_FAILED');
      const issues = error.details?.['issues'] as Array<{ path: string; message: string }>;
      expect(issues.map((issue) => issue.path)).toContain(path);
      for (const found of issues) expect(found.message.length).toBeGreaterThan(0);
    });

    it('should refuse a name already used in the project, and free it when the tool is deleted', async () => {
      const projectId = await newProject(registry);
      const first = await create(toolRequest(projectId));
      await expectError(
        create(toolRequest(projectId)),
        'REGISTRY_TOOL_NAME_TAKEN',
        'A tool named "get_order" already exists in this project',
      );
      // The same name in another project is fine.
      await create(toolRequest(await newProject(registry)));
      await registry.bus.request(Subjects.registry.toolDelete, { projectId, toolId: first.id });
      await expect(create(toolRequest(projectId))).resolves.toMatchObject({ version: 1 });
    });

    it('should answer 404 for a project that does not exist', async () => {
      await expectError(
        create(toolRequest(randomUUID())),
        'REGISTRY_PROJECT_NOT_FOUND',
        'Project not found',
      );
    });
  });

  describe('versions and optimistic concurrency', () => {
    it('should version every change and keep each version immutable', async () => {
      const projectId = await newProject(registry);
      const created = await create(toolRequest(projectId));
      const patched = await registry.bus.request(Subjects.registry.toolPatch, {
        projectId,
        toolId: created.id,
        expected_version: 1,
        description: 'Second wording',
        timeout_ms: 2_000,
      });
      expect(patched).toMatchObject({
        version: 2,
        description: 'Second wording',
        timeout_ms: 2_000,
        endpoint_path: created.endpoint_path,
      });
      const replaced = await registry.bus.request(Subjects.registry.toolUpdate, {
        ...toolRequest(projectId, { description: 'Third', method: 'POST' }),
        toolId: created.id,
        expected_version: 2,
      });
      expect(replaced).toMatchObject({ version: 3, method: 'POST', timeout_ms: 10_000 });
      const first = await registry.bus.request(Subjects.registry.toolResolve, {
        projectId,
        name: 'get_order',
        version: 1,
      });
      expect(first.tool).toMatchObject({ version: 1, description: created.description });
      expect(first.currentVersion).toBe(3);
    });

    it('should answer 409 with the current version when expected_version is stale', async () => {
      const projectId = await newProject(registry);
      const created = await create(toolRequest(projectId));
      await registry.bus.request(Subjects.registry.toolPatch, {
        projectId,
        toolId: created.id,
        description: 'moved on',
      });
      const error = await expectError(
        registry.bus.request(Subjects.registry.toolPatch, {
          projectId,
          toolId: created.id,
          expected_version: 1,
          description: 'stale',
        }),
        'REGISTRY_TOOL_VERSION_CONFLICT',
        'expected_version is 1 but the tool is at version 2',
      );
      expect(error.details).toEqual({ currentVersion: 2, expectedVersion: 1 });
      await expectError(
        registry.bus.request(Subjects.registry.toolDelete, {
          projectId,
          toolId: created.id,
          expected_version: 1,
        }),
        'REGISTRY_TOOL_VERSION_CONFLICT',
        'expected_version is 1 but the tool is at version 2',
      );
    });

    it('should let exactly one of many concurrent PATCHes with the same expected_version win', async () => {
      const projectId = await newProject(registry);
      const created = await create(toolRequest(projectId));
      const attempts = 12;
      const outcomes = await Promise.allSettled(
        Array.from({ length: attempts }, (_, index) =>
          registry.bus.request(Subjects.registry.toolPatch, {
            projectId,
            toolId: created.id,
            expected_version: 1,
            description: `writer ${index}`,
          }),
        ),
      );
      const won = outcomes.filter(
        (outcome): outcome is PromiseFulfilledResult<Tool> => outcome.status === 'fulfilled',
      );
      const lost = outcomes.filter(
        (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
      );
      expect(won).toHaveLength(1);
      expect(won[0]?.value.version).toBe(2);
      expect(lost).toHaveLength(attempts - 1);
      for (const outcome of lost) {
        expect(outcome.reason).toMatchObject({
          code: 'REGISTRY_TOOL_VERSION_CONFLICT',
          details: { currentVersion: 2, expectedVersion: 1 },
        });
      }
      const current = await registry.bus.request(Subjects.registry.toolGet, {
        projectId,
        toolId: created.id,
      });
      expect(current.description).toBe(won[0]?.value.description);
    });

    it('should apply concurrent PATCHes without expected_version one after another, losing none', async () => {
      const projectId = await newProject(registry);
      const created = await create(toolRequest(projectId));
      await Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          registry.bus.request(Subjects.registry.toolPatch, {
            projectId,
            toolId: created.id,
            description: `last writer ${index}`,
          }),
        ),
      );
      const current = await registry.bus.request(Subjects.registry.toolGet, {
        projectId,
        toolId: created.id,
      });
      expect(current.version).toBe(5);
    });
  });

  describe('project isolation', () => {
    it("should answer every probe of another project's tool exactly like an unknown id", async () => {
      const owner = await newProject(registry, 'Owner');
      const intruder = await newProject(registry, 'Intruder');
      const tool = await create(toolRequest(owner));
      const probes = (toolId: string, name: string) => [
        registry.bus.request(Subjects.registry.toolGet, { projectId: intruder, toolId }),
        registry.bus.request(Subjects.registry.toolGet, { projectId: intruder, name }),
        registry.bus.request(Subjects.registry.toolPatch, {
          projectId: intruder,
          toolId,
          description: 'pwned',
        }),
        registry.bus.request(Subjects.registry.toolUpdate, {
          ...toolRequest(intruder),
          toolId,
        }),
        registry.bus.request(Subjects.registry.toolDelete, { projectId: intruder, toolId }),
        registry.bus.request(Subjects.registry.toolEnable, { projectId: intruder, toolId }),
        registry.bus.request(Subjects.registry.toolDisable, { projectId: intruder, toolId }),
        registry.bus.request(Subjects.registry.toolResolve, { projectId: intruder, name }),
      ];
      const answers = async (toolId: string, name: string) =>
        (await Promise.all(probes(toolId, name).map(rejectionOf))).map((error) => ({
          code: error.code,
          message: error.message,
          details: error.details,
        }));
      const existing = await answers(tool.id, tool.name);
      const missing = await answers(randomUUID(), 'no_such_tool');
      expect(existing).toEqual(missing);
      expect(new Set(existing.map((answer) => answer.code))).toEqual(
        new Set(['REGISTRY_TOOL_NOT_FOUND']),
      );
      expect(existing[0]).toEqual({
        code: 'REGISTRY_TOOL_NOT_FOUND',
        message: 'Tool not found',
        details: undefined,
      });
      // Nothing changed for the owner.
      await expect(
        registry.bus.request(Subjects.registry.toolGet, { projectId: owner, toolId: tool.id }),
      ).resolves.toEqual(tool);
    });
  });

  describe('the data plane', () => {
    it('should list only the tools a principal may see, with the project tool-list version', async () => {
      const projectId = await newProject(registry);
      const input = { type: 'object', properties: {} };
      const common = { endpoint_path: '/x', input_schema: input };
      await create(toolRequest(projectId, { ...common, name: 'public' }));
      await create(
        toolRequest(projectId, { ...common, name: 'scoped', required_scope: 'runs:read' }),
      );
      await create(
        toolRequest(projectId, {
          ...common,
          name: 'member_only',
          require_member: true,
          endpoint_path: '/members/{{member_id}}',
        }),
      );
      await create(toolRequest(projectId, { ...common, name: 'off', is_enabled: false }));
      const names = async (scopes: Array<'mcp:connect' | 'runs:read'>, isMember: boolean) => {
        const list = await registry.bus.request(Subjects.registry.toolList, {
          projectId,
          scopes,
          isMember,
        });
        expect(list.toolListVersion).toBe(4);
        for (const tool of list.tools) expect(JSON.stringify(tool)).not.toContain('v1.k1.');
        return list.tools.map((tool) => tool.name);
      };
      expect(await names(['mcp:connect'], false)).toEqual(['public']);
      expect(await names(['mcp:connect', 'runs:read'], false)).toEqual(['public', 'scoped']);
      expect(await names(['mcp:connect'], true)).toEqual(['member_only', 'public']);
      expect(await names(['mcp:connect', 'runs:read'], true)).toEqual([
        'member_only',
        'public',
        'scoped',
      ]);
      const all = await registry.bus.request(Subjects.registry.toolListAll, { projectId });
      expect(all.items.map((tool) => tool.name)).toEqual([
        'member_only',
        'off',
        'public',
        'scoped',
      ]);
      expect(all).toMatchObject({ next_cursor: null, toolListVersion: 4 });
    });

    it('should page the management list by name', async () => {
      const projectId = await newProject(registry);
      for (const name of ['c', 'a', 'b']) {
        await create(
          toolRequest(projectId, { name, endpoint_path: '/x', input_schema: { type: 'object' } }),
        );
      }
      const first = await registry.bus.request(Subjects.registry.toolListAll, {
        projectId,
        limit: 2,
      });
      expect(first.items.map((tool) => tool.name)).toEqual(['a', 'b']);
      expect(first.next_cursor).toBe('b');
      const second = await registry.bus.request(Subjects.registry.toolListAll, {
        projectId,
        limit: 2,
        cursor: 'b',
      });
      expect(second.items.map((tool) => tool.name)).toEqual(['c']);
      expect(second.next_cursor).toBeNull();
    });

    it('should end a management page early when its tools are large, so it fits one message', async () => {
      const projectId = await newProject(registry);
      const bulky = {
        type: 'object',
        properties: { note: { type: 'string', description: 'd'.repeat(60_000) } },
      };
      for (let index = 0; index < 10; index += 1) {
        await create(
          toolRequest(projectId, {
            name: `bulky_${index}`,
            endpoint_path: '/x',
            input_schema: bulky,
          }),
        );
      }
      const names: string[] = [];
      let pages = 0;
      let cursor: string | undefined;
      do {
        const page = await registry.bus.request(Subjects.registry.toolListAll, {
          projectId,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(600 * 1024);
        names.push(...page.items.map((tool) => tool.name));
        cursor = page.next_cursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(pages).toBeGreaterThan(1);
      expect(names).toEqual(Array.from({ length: 10 }, (_, index) => `bulky_${index}`));
    });

    it('should refuse renaming a tool to a name another live tool has', async () => {
      const projectId = await newProject(registry);
      await create(toolRequest(projectId, { name: 'first' }));
      const second = await create(toolRequest(projectId, { name: 'second' }));
      await expectError(
        registry.bus.request(Subjects.registry.toolPatch, {
          projectId,
          toolId: second.id,
          name: 'first',
        }),
        'REGISTRY_TOOL_NAME_TAKEN',
        'A tool named "first" already exists in this project',
      );
      await expect(
        registry.bus.request(Subjects.registry.toolPatch, {
          projectId,
          toolId: second.id,
          name: 'renamed',
        }),
      ).resolves.toMatchObject({ name: 'renamed', version: 2 });
    });

    it('should enable and disable, versioning only real changes', async () => {
      const projectId = await newProject(registry);
      const created = await create(toolRequest(projectId));
      const disabled = await registry.bus.request(Subjects.registry.toolDisable, {
        projectId,
        toolId: created.id,
        expected_version: 1,
      });
      expect(disabled).toMatchObject({ is_enabled: false, version: 2 });
      const again = await registry.bus.request(Subjects.registry.toolDisable, {
        projectId,
        toolId: created.id,
      });
      expect(again.version).toBe(2);
      const visible = await registry.bus.request(Subjects.registry.toolList, {
        projectId,
        scopes: ['mcp:connect'],
        isMember: true,
      });
      expect(visible.tools).toEqual([]);
      // A disabled tool is still found by name, so the gateway can say it is not enabled.
      await expect(
        registry.bus.request(Subjects.registry.toolGet, { projectId, name: 'get_order' }),
      ).resolves.toMatchObject({ is_enabled: false });
      const enabled = await registry.bus.request(Subjects.registry.toolEnable, {
        projectId,
        toolId: created.id,
      });
      expect(enabled).toMatchObject({ is_enabled: true, version: 3 });
    });

    it('should publish a change event after every committed change, with the new versions', async () => {
      const projectId = await newProject(registry);
      const { events, stop } = collectToolEvents(registry);
      try {
        const created = await create(toolRequest(projectId));
        const ref = { projectId, toolId: created.id };
        await registry.bus.request(Subjects.registry.toolPatch, { ...ref, description: 'v2' });
        await registry.bus.request(Subjects.registry.toolDisable, ref);
        await registry.bus.request(Subjects.registry.toolEnable, ref);
        await registry.bus.request(Subjects.registry.toolDelete, ref);
        // A failed write publishes nothing.
        await rejectionOf(registry.bus.request(Subjects.registry.toolDelete, ref));
        await waitUntil(
          () =>
            Promise.resolve(events.filter((event) => event.projectId === projectId).length >= 5),
          5_000,
          20,
        );
        const mine = events.filter((event) => event.projectId === projectId);
        expect(mine).toEqual([
          {
            projectId,
            toolId: created.id,
            toolName: 'get_order',
            version: 1,
            change: 'created',
            toolListVersion: 1,
          },
          {
            projectId,
            toolId: created.id,
            toolName: 'get_order',
            version: 2,
            change: 'updated',
            toolListVersion: 2,
          },
          {
            projectId,
            toolId: created.id,
            toolName: 'get_order',
            version: 3,
            change: 'disabled',
            toolListVersion: 3,
          },
          {
            projectId,
            toolId: created.id,
            toolName: 'get_order',
            version: 4,
            change: 'enabled',
            toolListVersion: 4,
          },
          {
            projectId,
            toolId: created.id,
            toolName: 'get_order',
            version: 5,
            change: 'deleted',
            toolListVersion: 5,
          },
        ]);
      } finally {
        stop();
      }
      const after = await registry.bus.request(Subjects.registry.toolListAll, { projectId });
      expect(after).toMatchObject({ items: [], toolListVersion: 5 });
    });
  });

  describe('secrets', () => {
    const secret = 'sk_live_4f3c2b1a0987654321fedcba';

    it('should store the secret write-only: reads show only that it is set and its last four characters', async () => {
      const projectId = await newProject(registry);
      const created = await create(
        toolRequest(projectId, { auth_strategy: 'bearer', encrypted_auth_secret: secret }),
      );
      expect(created.auth_secret).toEqual({ set: true, last4: 'dcba' });
      const read = await registry.bus.request(Subjects.registry.toolGet, {
        projectId,
        toolId: created.id,
      });
      const list = await registry.bus.request(Subjects.registry.toolList, {
        projectId,
        scopes: [],
        isMember: false,
      });
      for (const reply of [created, read, list])
        expect(JSON.stringify(reply)).not.toContain(secret);
      const rows = await registry.dataSource.query<Array<{ auth_secret: string }>>(
        'SELECT auth_secret FROM registry.tool_versions WHERE tool_id = $1',
        [created.id],
      );
      expect(rows[0]?.auth_secret).toMatch(/^v1\.k1\./);
      expect(rows[0]?.auth_secret).not.toContain(secret);
      const resolved = await registry.bus.request(Subjects.registry.toolResolve, {
        projectId,
        name: 'get_order',
      });
      expect(resolved.secret).toBe(secret);
      expect(logs.text()).not.toContain(secret);
    });

    it('should keep the secret through changes that leave it out, and drop it when auth is turned off', async () => {
      const projectId = await newProject(registry);
      const created = await create(
        toolRequest(projectId, { auth_strategy: 'hmac_signature', encrypted_auth_secret: secret }),
      );
      const replaced = await registry.bus.request(Subjects.registry.toolUpdate, {
        ...toolRequest(projectId, { auth_strategy: 'hmac_signature', description: 'new words' }),
        toolId: created.id,
      });
      expect(replaced.auth_secret.set).toBe(true);
      const resolved = await registry.bus.request(Subjects.registry.toolResolve, {
        projectId,
        name: 'get_order',
      });
      expect(resolved.secret).toBe(secret);
      await expectError(
        registry.bus.request(Subjects.registry.toolPatch, {
          projectId,
          toolId: created.id,
          encrypted_auth_secret: null,
        }),
        'REGISTRY_TOOL_INVALID',
        TOOL_ERROR_DETAILS.hmacSecretRequired,
      );
      const off = await registry.bus.request(Subjects.registry.toolPatch, {
        projectId,
        toolId: created.id,
        auth_strategy: 'none',
      });
      expect(off.auth_secret).toEqual({ set: false, last4: null });
    });

    it('should show no last four characters of a short secret', async () => {
      const projectId = await newProject(registry);
      const created = await create(
        toolRequest(projectId, { auth_strategy: 'bearer', encrypted_auth_secret: 'short' }),
      );
      expect(created.auth_secret).toEqual({ set: true, last4: null });
    });
  });
});

describe('registry settings', () => {
  let harness: RegistryHarness;

  beforeEach(async () => {
    harness = await registryHarness();
  });

  afterEach(() => harness.close());

  it('should allow http:// only for hosts in TENGINE_ALLOW_HTTP_HOSTS, and say so loudly at boot', async () => {
    const logs = captureLogger('registry');
    const registry = await harness.start(
      { TENGINE_SECRET_KEYS: secretKey('k1'), TENGINE_ALLOW_HTTP_HOSTS: 'localhost, dev.internal' },
      logs,
    );
    expect(logs.text()).toMatch(/TENGINE_ALLOW_HTTP_HOSTS is set.*never set it in production/);
    const projectId = await newProject(registry);
    await expect(
      registry.bus.request(
        Subjects.registry.toolCreate,
        toolRequest(projectId, { base_url: 'http://localhost:8080' }),
      ),
    ).resolves.toMatchObject({ base_url: 'http://localhost:8080' });
    await expectError(
      registry.bus.request(
        Subjects.registry.toolCreate,
        toolRequest(projectId, { name: 'other', base_url: 'http://api.example.com' }),
      ),
      'REGISTRY_TOOL_INVALID',
      'base_url must use HTTPS',
    );
  });

  it('should run without TENGINE_SECRET_KEYS but refuse to store a secret, with a code that says why', async () => {
    const logs = captureLogger('registry');
    const registry = await harness.start({}, logs);
    expect(logs.text()).toContain('TENGINE_SECRET_KEYS is not set');
    const projectId = await newProject(registry);
    await expect(
      registry.bus.request(Subjects.registry.toolCreate, toolRequest(projectId)),
    ).resolves.toMatchObject({ version: 1 });
    await expectError(
      registry.bus.request(
        Subjects.registry.toolCreate,
        toolRequest(projectId, {
          name: 'signed',
          auth_strategy: 'hmac_signature',
          encrypted_auth_secret: 'whsec_0123456789abcdef',
        }),
      ),
      'REGISTRY_SECRET_KEYS_NOT_CONFIGURED',
      'The registry has no TENGINE_SECRET_KEYS, so it cannot store encrypted_auth_secret',
    );
  });

  it('should refuse to boot with a malformed TENGINE_SECRET_KEYS, naming the variable and not echoing the key', async () => {
    const shortKey = Buffer.alloc(16, 7).toString('base64');
    await expect(harness.start({ TENGINE_SECRET_KEYS: `k1:${shortKey}` })).rejects.toThrow(
      /TENGINE_SECRET_KEYS: .*32 bytes/,
    );
    await expect(harness.start({ TENGINE_SECRET_KEYS: `k1:${shortKey}` })).rejects.not.toThrow(
      shortKey,
    );
  });
});
