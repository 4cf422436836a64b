import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { startTelemetry } from '@tengine/telemetry';
import { freePort, waitUntil } from '@tengine/testing';

import { connectMcp, initializeRequest } from '../support/mcp-client.js';
import { createProject, startStack, type ProjectFixture, type Stack } from '../support/stack.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const telemetry = startTelemetry({ serviceName: 'tool-calls-test', inMemory: true });

type Content = Array<{ type: string; text: string }>;

describe('tool calls end to end: MCP client → gateway → executor → customer API → audit', () => {
  let stack: Stack;
  let upstream: TestUpstream;
  let project: ProjectFixture;
  let other: ProjectFixture;

  const tool = (name: string, origin: string, overrides: Record<string, unknown> = {}) => ({
    name,
    description: name,
    method: 'POST',
    base_url: origin,
    endpoint_path: '/echo',
    body_template: { text: '{{text}}' },
    input_schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    ...overrides,
  });

  beforeAll(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
      TENGINE_EGRESS_ALLOW: '127.0.0.1/32',
    });
    project = await createProject(stack, { environment: 'development' });
    other = await createProject(stack, { environment: 'development' });
    const closedPort = await freePort();
    const definitions = [
      tool('echo', upstream.origin),
      tool('broken', upstream.origin, { endpoint_path: '/fail' }),
      tool('sleepy', upstream.origin, { endpoint_path: '/slow', timeout_ms: 300 }),
      tool('unreachable', `http://127.0.0.1:${closedPort}`),
      tool('whoami', upstream.origin, {
        method: 'GET',
        endpoint_path: '/members/{{member_id}}',
        body_template: null,
        require_member: true,
        input_schema: { type: 'object', properties: {} },
      }),
    ];
    for (const fixture of [project, other]) {
      for (const definition of definitions) {
        const created = await stack.call('POST', '/api/v1/custom-tools', {
          token: fixture.apiKey,
          body: definition,
        });
        if (created.status !== 201)
          throw new Error(`${definition.name}: ${JSON.stringify(created.body)}`);
      }
    }
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });

  it('should call the API and return its answer with the Run id, and record the Run', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        path: '/echo',
        body: { text: 'hello' },
        project: project.projectId,
      });
      const runId = String(result._meta?.['io.tengine/run_id']);
      expect(runId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      await waitUntil(async () => {
        const run = await stack.call('GET', `/api/v1/runs/${runId}`, { token: project.apiKey });
        return run.status === 200 && run.body['status'] === 'succeeded';
      }, 10_000);
      const run = await stack.call('GET', `/api/v1/runs/${runId}`, { token: project.apiKey });
      expect(run.body).toMatchObject({
        tool_name: 'echo',
        status: 'succeeded',
        upstream_status: 200,
      });
      expect(
        (await stack.call('GET', `/api/v1/runs/${runId}`, { token: other.apiKey })).status,
      ).toBe(404);
    } finally {
      await client.close();
    }
  });

  it('should tell where a tool call spent its time in a Server-Timing header', async () => {
    const post = (body: unknown, session?: string) =>
      fetch(`${stack.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${project.apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(session ? { 'mcp-session-id': session } : {}),
        },
        body: JSON.stringify(body),
      });
    const init = await post(initializeRequest());
    expect(init.headers.get('server-timing')).toBeNull();
    const session = init.headers.get('mcp-session-id') ?? undefined;
    const call = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'timed' } },
      },
      session,
    );
    expect(call.status).toBe(200);
    const header = call.headers.get('server-timing') ?? '';
    const phases: Record<string, number> = Object.fromEntries(
      header.split(', ').map((entry): [string, number] => {
        const [name, duration] = entry.split(';dur=');
        return [name ?? '', Number(duration)];
      }),
    );
    expect(Object.keys(phases)).toEqual([
      'gw-parse',
      'gw-auth',
      'gw-validate',
      'nats',
      'ex-render',
      'ex-sign',
      'ex-ledger',
      'upstream',
      'ex-publish',
      'gw-total',
    ]);
    for (const duration of Object.values(phases)) expect(duration).toBeGreaterThanOrEqual(0);
    const parts = Object.entries(phases)
      .filter(([name]) => name !== 'gw-total')
      .reduce((sum, [, duration]) => sum + duration, 0);
    expect(parts).toBeLessThanOrEqual(phases['gw-total']! + 0.01);
    expect(phases['upstream']).toBeGreaterThan(0);
    expect(phases['ex-ledger']).toBeGreaterThan(0);
  });

  it.each([
    ['broken', '502 Bad Gateway: Upstream tool call failed — non-2xx response'],
    ['unreachable', '502 Bad Gateway: Upstream tool call failed — connection error'],
    ['sleepy', '500 Internal Server Error: Tool execution timed out'],
  ])('should turn %s into an isError result with the reference text', async (name, text) => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const result = await client.callTool({ name, arguments: { text: 'x' } });
      expect(result.isError).toBe(true);
      expect((result.content as Content)[0]?.text).toContain(text);
      expect(result._meta?.['io.tengine/run_id']).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it('should inject the member id from the session, never from arguments', async () => {
    const session = await stack.call<{ session_token: string; member_id: string }>(
      'POST',
      '/api/v1/mcp/session-token',
      {
        token: project.apiKey,
        body: { member_external_id: 'alice' },
      },
    );
    const { client } = await connectMcp(stack.url, session.body.session_token);
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        path: `/members/${session.body.member_id}`,
        member: session.body.member_id,
      });
    } finally {
      await client.close();
    }
  });

  it('should replay a call retried with the same Idempotency-Key instead of calling the API again', async () => {
    const before = upstream.hits.length;
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const meta = { 'io.tengine/idempotency-key': `key-${Date.now()}` };
      const first = await client.callTool({
        name: 'echo',
        arguments: { text: 'once' },
        _meta: meta,
      });
      const second = await client.callTool({
        name: 'echo',
        arguments: { text: 'once' },
        _meta: meta,
      });
      expect(second.structuredContent).toEqual(first.structuredContent);
      expect(second._meta?.['io.tengine/replayed']).toBe(true);
      expect(upstream.hits.length - before).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('should refuse an invalid idempotency key without calling anything', async () => {
    const before = upstream.hits.length;
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const result = await client.callTool({
        name: 'echo',
        arguments: { text: 'x' },
        _meta: { 'io.tengine/idempotency-key': 'has spaces in it' },
      });
      expect(result.isError).toBe(true);
      expect(result._meta).toEqual({ 'io.tengine/error_code': 'INVALID_IDEMPOTENCY_KEY' });
      expect(upstream.hits.length).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('should keep 500 interleaved concurrent calls of two projects apart', async () => {
    const clients = await Promise.all([
      connectMcp(stack.url, project.apiKey),
      connectMcp(stack.url, other.apiKey),
    ]);
    try {
      const calls = Array.from({ length: 500 }, (_, index) => {
        const mine = index % 2 === 0 ? clients[0] : clients[1];
        const expectedProject = index % 2 === 0 ? project.projectId : other.projectId;
        return mine.client
          .callTool({ name: 'echo', arguments: { text: `call-${index}` } })
          .then((result) => ({ result, index, expectedProject }));
      });
      const results = await Promise.all(calls);
      for (const { result, index, expectedProject } of results) {
        expect(result.isError).toBeFalsy();
        expect(result.structuredContent).toMatchObject({
          body: { text: `call-${index}` },
          project: expectedProject,
        });
      }
    } finally {
      await Promise.all(clients.map(({ client }) => client.close()));
    }
  });

  it('should trace a call from the gateway through the executor to audit under one trace id', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    let runId = '';
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'traced' } });
      runId = String(result._meta?.['io.tengine/run_id']);
    } finally {
      await client.close();
    }
    const spans = (): ReadableSpan[] => telemetry.memoryExporter?.getFinishedSpans() ?? [];
    const auditSpan = () =>
      spans().find(
        (span) =>
          span.attributes['tengine.run.id'] === runId &&
          span.attributes['tengine.service'] === 'audit',
      );
    await waitUntil(() => Promise.resolve(auditSpan() !== undefined), 10_000, 50);
    const traceId = auditSpan()!.spanContext().traceId;
    const inTrace = spans().filter((span) => span.spanContext().traceId === traceId);
    const services = new Set(inTrace.map((span) => span.attributes['tengine.service']));
    // Registry and identity join the trace only when a cache was cold; these three always do.
    for (const service of ['gateway', 'executor', 'audit'])
      expect(services.has(service)).toBe(true);
    const executorHandler = inTrace.find(
      (span) =>
        span.attributes['tengine.service'] === 'executor' &&
        span.name === 'rpc.executor.run.execute.v1',
    );
    const gatewayClient = inTrace.find(
      (span) => span.spanContext().spanId === executorHandler?.parentSpanContext?.spanId,
    );
    expect(gatewayClient?.attributes['messaging.operation.type']).toBe('send');
  });
});
