import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { waitUntil } from '@tengine/testing';

import { connectMcp, initializeRequest, postMcp, toolBody } from '../support/mcp-client.js';
import {
  createProject,
  startGatewayProcesses,
  startStack,
  type GatewayProcess,
  type ProjectFixture,
  type Stack,
} from '../support/stack.js';

describe('the MCP endpoint with unmodified SDK clients', () => {
  let stack: Stack;
  let project: ProjectFixture;
  let other: ProjectFixture;

  beforeAll(async () => {
    stack = await startStack();
    project = await createProject(stack, { environment: 'development' });
    other = await createProject(stack, { environment: 'development' });
    for (let index = 0; index < 130; index += 1) {
      const created = await stack.call('POST', '/api/v1/custom-tools', {
        token: project.apiKey,
        body: toolBody(`tool_${String(index).padStart(3, '0')}`, {
          annotations: { readOnlyHint: true },
        }),
      });
      if (created.status !== 201)
        throw new Error(`tool: ${created.status} ${JSON.stringify(created.body)}`);
    }
    await stack.call('POST', '/api/v1/custom-tools', {
      token: project.apiKey,
      body: toolBody('members_only', { require_member: true }),
    });
    await stack.call('POST', '/api/v1/custom-tools', {
      token: project.apiKey,
      body: toolBody('switched_off', { is_enabled: false }),
    });
    await stack.call('POST', '/api/v1/custom-tools', {
      token: other.apiKey,
      body: toolBody('their_tool'),
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('should initialize and list the principal’s visible tools page by page', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'tengine' });
      expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true } });
      const first = await client.listTools();
      expect(first.tools).toHaveLength(100);
      expect(first.nextCursor).toBeDefined();
      const second = await client.listTools({ cursor: first.nextCursor });
      const names = [...first.tools, ...second.tools].map((tool) => tool.name);
      expect(names).toHaveLength(130);
      expect(names).not.toContain('members_only');
      expect(names).not.toContain('switched_off');
      expect(names).not.toContain('their_tool');
      expect(second.nextCursor).toBeUndefined();
      expect(first.tools[0]).toMatchObject({
        name: 'tool_000',
        inputSchema: { type: 'object', required: ['text'] },
        annotations: { readOnlyHint: true },
      });
    } finally {
      await client.close();
    }
  });

  it('should show member-only tools to member sessions', async () => {
    const session = await stack.call<{ session_token: string }>(
      'POST',
      '/api/v1/mcp/session-token',
      {
        token: project.apiKey,
        body: { member_external_id: 'member-1' },
      },
    );
    const { client } = await connectMcp(stack.url, session.body.session_token);
    try {
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        all.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(all).toContain('members_only');
    } finally {
      await client.close();
    }
  });

  it('should push notifications/tools/list_changed after a registry change', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      let notified = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        notified += 1;
      });
      // Give the client a moment to open its GET stream.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = await stack.call('POST', '/api/v1/custom-tools', {
        token: project.apiKey,
        body: toolBody('brand_new'),
      });
      expect(created.status).toBe(201);
      await waitUntil(() => Promise.resolve(notified > 0), 5_000, 20);
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(names).toContain('brand_new');
    } finally {
      await client.close();
    }
  });

  it('should refuse bad credentials, foreign project paths and foreign session ids', async () => {
    const initialize = initializeRequest();
    const missing = await postMcp(`${stack.url}/mcp`, undefined, initialize);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    const invalid = await postMcp(`${stack.url}/mcp`, 'tengine_wrong', initialize);
    expect(invalid.status).toBe(401);
    expect(invalid.body).toMatchObject({ error: { message: 'Invalid or inactive API key' } });
    const foreignPath = await postMcp(
      `${stack.url}/${other.projectId}/mcp`,
      project.apiKey,
      initialize,
    );
    expect(foreignPath.status).toBe(404);
    const ownPath = await postMcp(
      `${stack.url}/${project.projectId}/mcp`,
      project.apiKey,
      initialize,
    );
    expect(ownPath.status).toBe(200);
    const sessionId = ownPath.headers.get('mcp-session-id') ?? '';
    expect(sessionId).not.toBe('');
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    expect(
      (await postMcp(`${stack.url}/mcp`, project.apiKey, list, { 'mcp-session-id': sessionId }))
        .status,
    ).toBe(200);
    const stolen = await postMcp(`${stack.url}/mcp`, other.apiKey, list, {
      'mcp-session-id': sessionId,
    });
    expect(stolen.status).toBe(404);
  });

  it('should enforce Origin, protocol version, body size, nesting and JSON-RPC shape', async () => {
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const url = `${stack.url}/mcp`;
    expect(
      (await postMcp(url, project.apiKey, ping, { origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect(
      (await postMcp(url, project.apiKey, ping, { 'mcp-protocol-version': '1999-01-01' })).status,
    ).toBe(400);
    expect(
      (await postMcp(url, project.apiKey, ping, { 'mcp-protocol-version': '2025-06-18' })).status,
    ).toBe(200);
    const huge = { ...ping, params: { pad: 'x'.repeat(2 * 1024 * 1024) } };
    expect((await postMcp(url, project.apiKey, huge)).status).toBe(413);
    let deep: unknown = 'leaf';
    for (let index = 0; index < 200; index += 1) deep = { nested: deep };
    expect((await postMcp(url, project.apiKey, { ...ping, params: { deep } })).status).toBe(400);
    expect(
      (
        await postMcp(
          url,
          project.apiKey,
          '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"admin":true}}',
        )
      ).status,
    ).toBe(400);
    expect((await postMcp(url, project.apiKey, '{not json')).status).toBe(400);
    expect((await postMcp(url, project.apiKey, { hello: 'world' })).status).toBe(400);
    const unknownMethod = await postMcp(url, project.apiKey, {
      jsonrpc: '2.0',
      id: 9,
      method: 'resources/list',
    });
    expect(unknownMethod.body).toMatchObject({ error: { code: -32601 } });
    const notification = await postMcp(url, project.apiKey, {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    });
    expect(notification.status).toBe(202);
    // The process is still healthy after all of that.
    expect((await fetch(`${stack.url}/health/live`)).status).toBe(200);
  });

  it('should end a session on DELETE whether or not the empty body is labelled JSON', async () => {
    const variants: Array<Record<string, string>> = [{}, { 'content-type': 'application/json' }];
    for (const headers of variants) {
      const init = await postMcp(`${stack.url}/mcp`, project.apiKey, initializeRequest());
      const session = init.headers.get('mcp-session-id') ?? '';
      expect(session).not.toBe('');
      const deleted = await fetch(`${stack.url}/mcp`, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${project.apiKey}`,
          'mcp-session-id': session,
          ...headers,
        },
      });
      expect(deleted.status).toBeGreaterThanOrEqual(200);
      expect(deleted.status).toBeLessThan(300);
    }
  });

  it('should answer an unknown, disabled or foreign tool identically, and member-only tools for keys as member required', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const answers = await Promise.all(
        ['no_such_tool', 'switched_off', 'their_tool'].map((name) =>
          client.callTool({ name, arguments: { text: 'x' } }),
        ),
      );
      for (const answer of answers) {
        expect(answer.isError).toBe(true);
        expect(answer.content).toEqual([
          {
            type: 'text',
            text: expect.stringContaining(
              '403 Forbidden: Tool not enabled for this project',
            ) as unknown,
          },
        ]);
        expect(answer._meta).toEqual({ 'io.tengine/error_code': 'TOOL_NOT_ENABLED' });
      }
      const member = await client.callTool({ name: 'members_only', arguments: { text: 'x' } });
      expect(member.isError).toBe(true);
      expect(JSON.stringify(member.content)).toContain('403 Forbidden: Member context required');
    } finally {
      await client.close();
    }
  });

  it('should reject arguments that break the schema without calling anything', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const result = await client.callTool({ name: 'tool_001', arguments: { text: 42 } });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(
        /400 Bad Request: Invalid arguments for tool_001 — text: must be string/,
      );
      const missing = await client.callTool({ name: 'tool_001', arguments: {} });
      expect(JSON.stringify(missing.content)).toMatch(/text: must have required property 'text'/);
    } finally {
      await client.close();
    }
  });

  describe('across two gateway replicas', () => {
    let gateways: GatewayProcess[] = [];

    beforeAll(async () => {
      gateways = await startGatewayProcesses(stack, 2);
    });

    afterAll(async () => {
      for (const gateway of gateways) await gateway.process.stop();
    });

    it('should continue a session initialized on one replica on the other', async () => {
      const first = gateways[0]!;
      const second = gateways[1]!;
      const { client, transport } = await connectMcp(first.url, project.apiKey);
      const sessionId = transport.sessionId;
      await client.close();
      expect(sessionId).toBeDefined();
      const resumed = await connectMcp(second.url, project.apiKey, { sessionId });
      try {
        const tools = await resumed.client.listTools();
        expect(tools.tools.length).toBeGreaterThan(0);
      } finally {
        await resumed.client.close();
      }
      const raw = await postMcp(
        `${second.url}/mcp`,
        project.apiKey,
        { jsonrpc: '2.0', id: 3, method: 'tools/list' },
        {
          'mcp-session-id': sessionId ?? '',
        },
      );
      expect(raw.status).toBe(200);
    });

    it('should close a revoked principal’s stream and refuse its next request', async () => {
      const doomed = await createProject(stack);
      const first = gateways[0]!;
      const { client, transport } = await connectMcp(first.url, doomed.apiKey);
      let closed = false;
      transport.onclose = () => {
        closed = true;
      };
      let streamErrors = 0;
      transport.onerror = () => {
        streamErrors += 1;
      };
      await new Promise((resolve) => setTimeout(resolve, 300));
      const revoked = await stack.call('DELETE', `/api/v1/api-keys/${doomed.apiKeyId}`, {
        token: doomed.apiKey,
      });
      expect(revoked.status).toBe(200);
      await waitUntil(
        async () => {
          const response = await postMcp(`${first.url}/mcp`, doomed.apiKey, {
            jsonrpc: '2.0',
            id: 1,
            method: 'ping',
          });
          return response.status === 401;
        },
        2_000,
        20,
      );
      await waitUntil(() => Promise.resolve(closed || streamErrors > 0), 2_000, 20);
      await client.close().catch(() => undefined);
    });
  });
});
