import { parseBody, type Answer, type AttackPlatform } from './platform.js';

/** A raw request to the MCP endpoint, as any HTTP client can send it. */
export async function mcp(
  platform: AttackPlatform,
  options: {
    token?: string | undefined;
    body?: unknown;
    headers?: Record<string, string>;
    method?: 'POST' | 'GET' | 'DELETE';
    path?: string;
  } = {},
): Promise<Answer> {
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  const response = await fetch(`${platform.url}${options.path ?? '/mcp'}`, {
    method,
    headers,
    body:
      method !== 'POST'
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body ?? { jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parseBody(text) as Record<string, unknown>,
  };
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'attacker', version: '1' },
  },
};

/** A `tools/call` message. */
export function toolCall(name: string, args: unknown = {}, id: number | string = 1): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** The MCP tool result of a `tools/call` answer. */
export interface ToolResult {
  readonly isError?: boolean;
  readonly content: Array<{ type: string; text: string }>;
  readonly structuredContent?: Record<string, unknown>;
  readonly _meta?: Record<string, unknown>;
}

export function resultOf(answer: Answer): ToolResult {
  const result = answer.body['result'];
  if (answer.status !== 200 || typeof result !== 'object' || result === null) {
    throw new Error(`not a tool result: ${answer.status} ${answer.text.slice(0, 500)}`);
  }
  return result as ToolResult;
}

/** A transport-level JSON-RPC refusal: HTTP status, JSON-RPC code, message and (optional) data.code. */
export function expectRpcRefusal(
  answer: Answer,
  expected: { status: number; code: number; message: string | RegExp; dataCode?: string },
): void {
  const error = answer.body['error'] as
    { code: number; message: string; data?: { code?: string } } | undefined;
  expect({ status: answer.status, jsonrpc: answer.body['jsonrpc'], code: error?.code }).toEqual({
    status: expected.status,
    jsonrpc: '2.0',
    code: expected.code,
  });
  if (typeof expected.message === 'string') expect(error?.message).toBe(expected.message);
  else expect(error?.message).toMatch(expected.message);
  if (expected.dataCode !== undefined) expect(error?.data?.code).toBe(expected.dataCode);
}

/**
 * A refused tool call: HTTP 200 with an `isError` result carrying the error code, the reference's
 * status and detail text (and the Run status when a Run was recorded).
 */
export function expectToolRefusal(
  answer: Answer,
  expected: { code: string; text: string | RegExp; status?: number; runStatus?: string },
): ToolResult {
  const result = resultOf(answer);
  expect(result.isError).toBe(true);
  expect(result._meta?.['io.tengine/error_code']).toBe(expected.code);
  if (expected.status !== undefined)
    expect(result._meta?.['io.tengine/status']).toBe(expected.status);
  if (expected.runStatus !== undefined) {
    expect(result._meta?.['io.tengine/run_status']).toBe(expected.runStatus);
  }
  const text = result.content.map((part) => part.text).join('\n');
  if (typeof expected.text === 'string') expect(text).toContain(expected.text);
  else expect(text).toMatch(expected.text);
  return result;
}
