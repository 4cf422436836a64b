import { AttackGuard } from './support/guard.js';
import { expectRpcRefusal, expectToolRefusal, mcp, resultOf, toolCall } from './support/mcp.js';
import {
  createTenant,
  createTool,
  startAttackPlatform,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

const ALLOWED_ORIGIN = 'https://app.example.com';
const PRINCIPAL_CONCURRENCY = 4;

/** One transport attack: the raw request and the JSON-RPC refusal it must get. */
interface TransportAttack {
  readonly headers?: Record<string, string>;
  /** A JSON value, or raw text sent as is. */
  readonly body: unknown;
  readonly expected: { status: number; code: number; message: string | RegExp };
}

const PARSE_ERROR = {
  status: 400,
  code: -32700,
  message:
    'Parse error: the body is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key',
};
const UNSUPPORTED_MEDIA_TYPE = {
  status: 415,
  code: -32000,
  message: 'Unsupported Media Type: Content-Type must be application/json',
};
const NOT_JSON_RPC = {
  status: 400,
  code: -32600,
  message: 'Invalid Request: not a JSON-RPC 2.0 message',
};
const TOO_DEEP = {
  status: 400,
  code: -32600,
  message: 'Invalid Request: JSON nested deeper than 64 levels',
};

/** `depth` nested objects around a leaf. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let index = 0; index < depth; index += 1) value = { n: value };
  return value;
}

describe('MCP transport abuse', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
      TENGINE_MCP_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      MCP_PRINCIPAL_CONCURRENCY: String(PRINCIPAL_CONCURRENCY),
    });
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform);
    platform.secrets.add(alice.apiKey);
    await createTool(platform, alice, {
      name: 'echo',
      base_url: upstream.origin,
      endpoint_path: '/echo',
      body_template: { text: '{{text}}' },
      input_schema: {
        type: 'object',
        properties: { text: { type: 'string' } },
        additionalProperties: false,
      },
    });
    // Control: an allowed browser origin with a supported protocol version calls the tool.
    const control = await mcp(platform, {
      token: alice.apiKey,
      headers: { origin: ALLOWED_ORIGIN, 'mcp-protocol-version': '2025-06-18' },
      body: toolCall('echo', { text: 'control' }),
    });
    if (resultOf(control).isError || upstream.requests.length !== 1) {
      throw new Error(`control call failed: ${control.text}`);
    }
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  const call = toolCall('echo', { text: 'attack' });
  const callText = JSON.stringify(call);
  /** The tool call's JSON text with `insert` spliced into its arguments object. */
  const withArguments = (insert: string): string =>
    callText.replace('"arguments":{', `"arguments":{${insert},`);
  const badOrigin = (origin: string): TransportAttack => ({
    headers: { origin },
    body: call,
    expected: { status: 403, code: -32000, message: `Forbidden: Origin ${origin} is not allowed` },
  });
  const badVersion = (version: string): TransportAttack => ({
    headers: { 'mcp-protocol-version': version },
    body: call,
    expected: {
      status: 400,
      code: -32000,
      message: new RegExp(
        `^Bad Request: Unsupported protocol version: ${version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(supported versions: `,
      ),
    },
  });

  const attacks: Array<[string, TransportAttack]> = [
    ['a foreign Origin', badOrigin('https://evil.example')],
    ['the opaque Origin null', badOrigin('null')],
    [
      'an allowed origin as a prefix of a foreign host',
      badOrigin(`${ALLOWED_ORIGIN}.evil.example`),
    ],
    ['the allowed host over plain http', badOrigin('http://app.example.com')],
    ['the allowed host on another port', badOrigin(`${ALLOWED_ORIGIN}:8443`)],
    ['an unsupported MCP-Protocol-Version', badVersion('1999-01-01')],
    ['a list of protocol versions', badVersion('2025-06-18, 2024-11-05')],
    ['the protocol version "latest"', badVersion('latest')],
    ['a 4 KiB protocol version', badVersion('9'.repeat(4096))],
    [
      'a 2 MiB body',
      {
        body: {
          ...(call as object),
          params: { name: 'echo', arguments: { text: 'x'.repeat(2 << 20) } },
        },
        expected: {
          status: 413,
          code: -32600,
          message: 'Payload Too Large: the body exceeds the size limit',
        },
      },
    ],
    [
      'a body just over 1 MiB',
      {
        body: `${withArguments(`"pad":"${'x'.repeat(1 << 20)}"`)}`,
        expected: {
          status: 413,
          code: -32600,
          message: 'Payload Too Large: the body exceeds the size limit',
        },
      },
    ],
    [
      'arguments nested 65 levels deep',
      { body: toolCall('echo', { text: 'x', deep: nested(65) }), expected: TOO_DEEP },
    ],
    [
      '100,000 nested arrays',
      { body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, expected: TOO_DEEP },
    ],
    [
      '50,000 nested objects',
      { body: `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`, expected: TOO_DEEP },
    ],
    [
      'a deeply nested batch member',
      { body: [call, { ...(call as object), id: 2, params: nested(80) }], expected: TOO_DEEP },
    ],
    [
      'a top-level __proto__ key',
      { body: callText.replace('{', '{"__proto__":{"admin":true},'), expected: PARSE_ERROR },
    ],
    [
      'a __proto__ key in params',
      {
        body: callText.replace('"params":{', '"params":{"__proto__":{"admin":true},'),
        expected: PARSE_ERROR,
      },
    ],
    [
      'a __proto__ key in the tool arguments',
      { body: withArguments('"__proto__":{"text":"x"}'), expected: PARSE_ERROR },
    ],
    [
      'a unicode-escaped \\u005f_proto__ key',
      { body: withArguments('"\\u005f_proto__":{"text":"x"}'), expected: PARSE_ERROR },
    ],
    [
      'an escaped __pro\\u0074o__ key',
      { body: withArguments('"__pro\\u0074o__":{"text":"x"}'), expected: PARSE_ERROR },
    ],
    [
      'a top-level constructor.prototype',
      {
        body: callText.replace('{', '{"constructor":{"prototype":{"admin":true}},'),
        expected: PARSE_ERROR,
      },
    ],
    [
      'constructor.prototype in the tool arguments',
      { body: withArguments('"constructor":{"prototype":{"text":"x"}}'), expected: PARSE_ERROR },
    ],
    [
      'an empty batch',
      {
        body: [],
        expected: { status: 400, code: -32600, message: 'Invalid Request: an empty batch' },
      },
    ],
    ['a nested batch', { body: [[call]], expected: NOT_JSON_RPC }],
    [
      'a batch with one malformed member',
      { body: [call, { hello: 'world' }], expected: NOT_JSON_RPC },
    ],
    [
      'a batch with a JSON-RPC 1.0 member',
      { body: [call, { jsonrpc: '1.0', id: 2, method: 'ping' }], expected: NOT_JSON_RPC },
    ],
    [
      'an object as the request id',
      { body: { ...(call as object), id: { $gt: 0 } }, expected: NOT_JSON_RPC },
    ],
    ['a body that is JSON null', { body: 'null', expected: NOT_JSON_RPC }],
    [
      'a body that is a JSON string of the request',
      { body: JSON.stringify(callText), expected: NOT_JSON_RPC },
    ],
    ['an empty body', { body: '', expected: PARSE_ERROR }],
    ['a body that is not JSON', { body: '{"jsonrpc":"2.0",', expected: PARSE_ERROR }],
    [
      'Content-Type text/plain',
      { headers: { 'content-type': 'text/plain' }, body: call, expected: UNSUPPORTED_MEDIA_TYPE },
    ],
    [
      'Content-Type text/plain naming application/json in a parameter',
      {
        headers: { 'content-type': 'text/plain; charset=application/json' },
        body: call,
        expected: UNSUPPORTED_MEDIA_TYPE,
      },
    ],
    [
      'Content-Type application/x-www-form-urlencoded',
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: call,
        expected: UNSUPPORTED_MEDIA_TYPE,
      },
    ],
    [
      'Content-Type multipart/form-data',
      {
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: call,
        expected: UNSUPPORTED_MEDIA_TYPE,
      },
    ],
    [
      'Content-Type application/json-patch+json',
      {
        headers: { 'content-type': 'application/json-patch+json' },
        body: call,
        expected: UNSUPPORTED_MEDIA_TYPE,
      },
    ],
    [
      'no Content-Type',
      { headers: { 'content-type': '' }, body: call, expected: UNSUPPORTED_MEDIA_TYPE },
    ],
    [
      'an Accept header without application/json',
      {
        headers: { accept: 'text/html' },
        body: call,
        expected: {
          status: 406,
          code: -32000,
          message: 'Not Acceptable: Client must accept application/json',
        },
      },
    ],
  ];

  it.each(attacks)('should refuse %s', async (_name, attack) => {
    const answer = await mcp(platform, {
      token: alice.apiKey,
      headers: attack.headers ?? {},
      body: attack.body,
    });
    expectRpcRefusal(answer, attack.expected);
    await guard.end([answer.text]);
  });

  it.each([
    [
      'an unknown method',
      { jsonrpc: '2.0', id: 7, method: 'resources/read', params: {} },
      -32601,
      'Method not found: resources/read',
    ],
    [
      'tools/call with an array of arguments',
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: ['x'] } },
      -32602,
      'Invalid params: tools/call needs a string name and an object of arguments',
    ],
    [
      'tools/call with a non-string tool name',
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: { $ne: '' }, arguments: {} } },
      -32602,
      'Invalid params: tools/call needs a string name and an object of arguments',
    ],
  ])('should answer %s with a JSON-RPC error', async (_name, body, code, message) => {
    const answer = await mcp(platform, { token: alice.apiKey, body });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ jsonrpc: '2.0', id: 7, error: { code, message } });
    await guard.end([answer.text]);
  });

  it('should refuse a plain prototype key in the arguments of a closed schema', async () => {
    const answer = await mcp(platform, {
      token: alice.apiKey,
      body: withArguments('"prototype":{"text":"x"}'),
    });
    expectToolRefusal(answer, {
      code: 'INVALID_ARGUMENTS',
      text: '400 Bad Request: Invalid arguments for echo — prototype: must NOT have additional properties',
    });
    await guard.end([answer.text]);
  });

  it('should refuse the calls of a batch beyond the per-principal concurrency', async () => {
    const batch = Array.from({ length: 10 }, (_, index) =>
      toolCall('echo', { text: `b${index}` }, index),
    );
    const answer = await mcp(platform, { token: alice.apiKey, body: batch });
    expect(answer.status).toBe(200);
    const items = answer.body as unknown as Array<{
      id: number;
      result?: unknown;
      error?: unknown;
    }>;
    expect(items).toHaveLength(10);
    const refused = items.filter((item) => item.error !== undefined);
    expect(refused.map((item) => item.error)).toEqual(
      Array.from({ length: 10 - PRINCIPAL_CONCURRENCY }, () => ({
        code: -32029,
        message:
          'Too many concurrent tool calls for this credential or project; retry after a moment',
      })),
    );
    // Only the admitted calls reached the API.
    await guard.end([answer.text], [{ upstream, requests: PRINCIPAL_CONCURRENCY }]);
  });
});
