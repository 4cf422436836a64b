import {
  DomainError,
  EXECUTOR_ERRORS,
  Subjects,
  type ExecuteRunReply,
  type ProjectPrincipal,
  type Tool,
} from '@tengine/contracts';
import { InProcessBroker, InProcessTransport, MessageBus } from '@tengine/messaging';
import { createLogger } from '@tengine/telemetry';

import { ExecutorToolCaller, toCallToolResult } from './tool-caller.js';

const principal: ProjectPrincipal = {
  kind: 'api_key',
  keyId: 'k',
  projectId: '0b9e3a4e-9f57-4d6e-9a55-2f0f3f1a6c11',
  integrationId: '7f2c1d3b-5a4e-4c6f-8b9a-1d2e3f4a5b6c',
  scopes: ['mcp:connect'],
};
const tool = { name: 'echo', version: 3, timeout_ms: 1000 } as Tool;
const logger = createLogger({ service: 'test', level: 'silent' });

describe(ExecutorToolCaller.name, () => {
  it('should answer a 504 isError result naming the Run when no executor replies in time', async () => {
    const broker = new InProcessBroker();
    let received: { runId: string; idempotencyKey: string; tool: unknown } | undefined;
    broker.register(Subjects.executor.runExecute, (payload) => {
      received = payload as typeof received;
      return new Promise(() => undefined);
    });
    const caller = new ExecutorToolCaller(
      new MessageBus(new InProcessTransport(broker), 5_000),
      logger,
      () => 50,
    );
    const result = await caller.call(
      principal,
      tool,
      { text: 'x' },
      { requestId: 7, idempotencyKey: undefined },
    );
    expect(result.isError).toBe(true);
    const runId = String(result._meta?.['io.tengine/run_id']);
    expect(runId).toBe(received?.runId);
    expect(received).toMatchObject({ tool: { name: 'echo', version: 3 }, idempotencyKey: runId });
    expect(JSON.stringify(result.content)).toContain(
      `504 Gateway Timeout: The executor did not answer in time`,
    );
    expect(JSON.stringify(result.content)).toContain(runId);
  });

  it('should answer 503 when no executor is running, and pass the client key through', async () => {
    const caller = new ExecutorToolCaller(
      new MessageBus(new InProcessTransport(new InProcessBroker()), 5_000),
      logger,
    );
    const result = await caller.call(
      principal,
      tool,
      {},
      { requestId: 'a', idempotencyKey: 'client-key' },
    );
    expect(result.isError).toBe(true);
    expect(result._meta?.['io.tengine/error_code']).toBe('EXECUTOR_UNAVAILABLE');
    expect(JSON.stringify(result.content)).toContain('503 Service Unavailable');
  });
});

describe(`${ExecutorToolCaller.name} when the executor could not record the Run`, () => {
  it('should say the outcome is unknown, not that the call failed', async () => {
    const broker = new InProcessBroker();
    broker.register(Subjects.executor.runExecute, () => {
      throw new DomainError('EXECUTOR_RUN_NOT_RECORDED', 'Run could not be recorded');
    });
    const caller = new ExecutorToolCaller(
      new MessageBus(new InProcessTransport(broker), 5_000),
      logger,
    );
    const result = await caller.call(principal, tool, {}, { requestId: 1, idempotencyKey: 'k1' });
    expect(result.isError).toBe(true);
    expect(result._meta?.['io.tengine/error_code']).toBe('EXECUTOR_RUN_NOT_RECORDED');
    const text = JSON.stringify(result.content);
    expect(text).toContain('503 Service Unavailable: Run could not be recorded');
    expect(text).toContain('unknown');
    expect(text).toContain('same idempotency key');
  });
});

describe(`${ExecutorToolCaller.name} when the executor refuses with one of its own errors`, () => {
  it.each([
    ['EXECUTOR_LEDGER_UNAVAILABLE', '503 Service Unavailable: Idempotency ledger unavailable'],
    ['EXECUTOR_REGISTRY_UNAVAILABLE', '503 Service Unavailable: Tool registry unavailable'],
  ] as const)('should report %s with its status, text and fix', async (code, text) => {
    const broker = new InProcessBroker();
    broker.register(Subjects.executor.runExecute, () => {
      throw new DomainError(code, 'refused');
    });
    const caller = new ExecutorToolCaller(
      new MessageBus(new InProcessTransport(broker), 5_000),
      logger,
    );
    const result = await caller.call(principal, tool, {}, { requestId: 1, idempotencyKey: 'k2' });
    expect(result.isError).toBe(true);
    expect(result._meta?.['io.tengine/error_code']).toBe(code);
    expect(JSON.stringify(result.content)).toContain(text);
    expect(JSON.stringify(result.content)).toContain(EXECUTOR_ERRORS[code].fix);
  });
});

describe(toCallToolResult.name, () => {
  const base: Omit<ExecuteRunReply, 'status'> = {
    runId: '01J0000000000000000000000Z',
    attempts: 1,
    replayed: false,
    durationMs: 3,
  };

  it('should give text, structured content for JSON objects, and the Run id', () => {
    const result = toCallToolResult({
      ...base,
      status: 'succeeded',
      upstream: {
        status: 200,
        contentType: 'application/json',
        encoding: 'utf8',
        body: '{"a":1}',
        json: { a: 1 },
        truncated: false,
        bytes: 7,
      },
    });
    expect(result).toEqual({
      content: [{ type: 'text', text: '{"a":1}' }],
      structuredContent: { a: 1 },
      _meta: {
        'io.tengine/run_id': base.runId,
        'io.tengine/replayed': false,
        'io.tengine/upstream_status': 200,
      },
    });
  });

  it('should never report an indeterminate Run as a success', () => {
    const result = toCallToolResult({
      ...base,
      status: 'indeterminate',
      error: {
        code: 'EXECUTOR_RUN_INTERRUPTED',
        status: 500,
        detail: 'Tool execution was interrupted; its outcome is unknown',
        fix: 'Check before retrying',
      },
    });
    expect(result.isError).toBe(true);
    expect(result._meta).toMatchObject({
      'io.tengine/run_status': 'indeterminate',
      'io.tengine/error_code': 'EXECUTOR_RUN_INTERRUPTED',
    });
  });

  it('should include the upstream status and excerpt for non-2xx answers', () => {
    const result = toCallToolResult({
      ...base,
      status: 'failed',
      error: {
        code: 'EXECUTOR_UPSTREAM_NON_2XX',
        status: 502,
        detail: 'Upstream tool call failed — non-2xx response',
        fix: 'Check your server logs',
        upstreamStatus: 503,
        excerpt: 'busy',
      },
    });
    expect((result.content as Array<{ text: string }>)[0]?.text).toBe(
      `502 Bad Gateway: Upstream tool call failed — non-2xx response — Check your server logs; your API answered 503: busy (Run ${base.runId})`,
    );
  });

  it('should render the reference 500 Tool execution failed row from the executor error', () => {
    const result = toCallToolResult({
      ...base,
      status: 'indeterminate',
      error: {
        code: 'EXECUTOR_EXECUTION_FAILED',
        status: 500,
        detail: 'Tool execution failed',
        fix: 'Check your server logs; verify your endpoint is reachable and returning valid responses',
      },
    });
    expect((result.content as Array<{ text: string }>)[0]?.text).toMatch(
      /^500 Internal Server Error: Tool execution failed — Check your server logs/,
    );
  });
});
