import { AttackGuard } from './support/guard.js';
import { expectToolRefusal, mcp, resultOf, toolCall } from './support/mcp.js';
import {
  createTenant,
  createTool,
  mintSession,
  startAttackPlatform,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

const RENDER_FAILED = {
  code: 'EXECUTOR_RENDER_FAILED',
  status: 400,
  runStatus: 'rejected',
  text: '400 Bad Request: Tool arguments cannot be rendered into a request',
};
const RESERVED = {
  code: 'EXECUTOR_RESERVED_VARIABLE',
  status: 400,
  runStatus: 'rejected',
  text: '400 Bad Request: Reserved variable cannot be provided as user input',
};

describe('template injection', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let member: { token: string; memberId: string };

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    });
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform, { environment: 'development' });
    platform.secrets.add(alice.apiKey);
    const base = { base_url: upstream.origin, method: 'GET' };
    const schema = (name: string) => ({
      type: 'object',
      properties: { [name]: { type: 'string' } },
      required: [name],
    });
    await createTool(platform, alice, {
      ...base,
      name: 'item',
      endpoint_path: '/items/{{id}}',
      input_schema: schema('id'),
    });
    await createTool(platform, alice, {
      ...base,
      name: 'search',
      endpoint_path: '/search',
      query_template: { q: '{{q}}', limit: '10' },
      input_schema: schema('q'),
    });
    await createTool(platform, alice, {
      ...base,
      name: 'traced',
      endpoint_path: '/traced',
      header_template: { 'X-Trace': '{{trace}}' },
      input_schema: schema('trace'),
    });
    await createTool(platform, alice, {
      ...base,
      method: 'POST',
      name: 'note',
      endpoint_path: '/notes',
      body_template: { note: '{{text}}', owner: '{{project_id}}' },
      // Open schema: any extra argument passes the gateway's validation and reaches the executor.
      input_schema: { type: 'object', properties: { text: { type: 'string' } } },
    });
    const session = await mintSession(platform, alice, 'templater');
    member = { token: session.token, memberId: session.memberId };
    // Control: a plain value renders and reaches the API.
    const control = await mcp(platform, {
      token: alice.apiKey,
      body: toolCall('item', { id: '42' }),
    });
    if (resultOf(control).isError || upstream.requests[0]?.url !== '/items/42') {
      throw new Error(`control call failed: ${control.text}`);
    }
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  const call = (name: string, args: Record<string, unknown>, token = alice.apiKey) =>
    mcp(platform, { token, body: toolCall(name, args) });

  // Path variables: each value stays one encoded segment; ".", ".." and "" are refused.
  it.each([
    ['..', RENDER_FAILED],
    ['.', RENDER_FAILED],
    ['', RENDER_FAILED],
    ['\ud800', RENDER_FAILED],
  ])('should refuse the path value %j', async (value, expected) => {
    const answer = await call('item', { id: value });
    expectToolRefusal(answer, expected);
    await guard.end([answer.text]);
  });

  it.each([
    ['../admin', '/items/..%2Fadmin'],
    ['../../../etc/passwd', '/items/..%2F..%2F..%2Fetc%2Fpasswd'],
    ['..%2fadmin', '/items/..%252fadmin'],
    ['%2e%2e%2f', '/items/%252e%252e%252f'],
    ['%2e%2e', '/items/%252e%252e'],
    ['%252e%252e%252f', '/items/%25252e%25252e%25252f'],
    ['..\\admin', '/items/..%5Cadmin'],
    ['..\\..\\windows\\win.ini', '/items/..%5C..%5Cwindows%5Cwin.ini'],
    ['admin\u0000.json', '/items/admin%00.json'],
    ['%00', '/items/%2500'],
    ['..;/admin', '/items/..%3B%2Fadmin'],
    ['..\u2215admin', '/items/..%E2%88%95admin'],
    ['\uff0e\uff0e\uff0fadmin', '/items/%EF%BC%8E%EF%BC%8E%EF%BC%8Fadmin'],
    ['//evil.example/x', '/items/%2F%2Fevil.example%2Fx'],
    ['a?admin=1#frag', '/items/a%3Fadmin%3D1%23frag'],
    ['a\r\nX-Injected: 1', '/items/a%0D%0AX-Injected%3A%201'],
    ['{{project_id}}', '/items/%7B%7Bproject_id%7D%7D'],
  ])('should keep the path value %j inside its segment', async (value, expected) => {
    const answer = await call('item', { id: value });
    expect(resultOf(answer).isError).toBeUndefined();
    // The upstream received exactly one request, on the templated route, with the value intact.
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    const received = upstream.requests[0]!.url;
    expect(received).toBe(expected);
    const segments = received.split('/');
    expect(segments).toHaveLength(3);
    expect(decodeURIComponent(segments[2]!)).toBe(value);
  });

  // Query values: encoded whole, so "&", "=", "?" and "#" cannot add or change parameters.
  it.each([
    ['a&admin=true', 'q=a%26admin%3Dtrue&limit=10'],
    ['a&limit=1000', 'q=a%26limit%3D1000&limit=10'],
    ['a?b=c', 'q=a%3Fb%3Dc&limit=10'],
    ['a#frag', 'q=a%23frag&limit=10'],
    ['a%26admin%3Dtrue', 'q=a%2526admin%253Dtrue&limit=10'],
    ['a b+c', 'q=a%20b%2Bc&limit=10'],
    ['a\r\nX-Injected: 1', 'q=a%0D%0AX-Injected%3A%201&limit=10'],
    ['a\u0000', 'q=a%00&limit=10'],
    ['{{integration_id}}', 'q=%7B%7Bintegration_id%7D%7D&limit=10'],
  ])('should not let the query value %j smuggle parameters', async (value, expected) => {
    const answer = await call('search', { q: value });
    expect(resultOf(answer).isError).toBeUndefined();
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    const received = upstream.requests[0]!.url;
    expect(received).toBe(`/search?${expected}`);
    const params = new URL(received, 'http://upstream').searchParams;
    expect([...params.keys()]).toEqual(['q', 'limit']);
    expect(params.get('q')).toBe(value);
  });

  // Header values: CR, LF, NUL and other control characters are refused before sending.
  it.each([
    ['a\r\nX-Injected: 1'],
    ['a\nX-Injected: 1'],
    ['a\rX-Injected: 1'],
    ['\r\n\r\nGET /admin HTTP/1.1\r\nHost: internal'],
    ['a\u0000b'],
    ['a\u000bb'],
    ['a\u007fb'],
    ['a\u2028b'],
  ])('should refuse the header value %j', async (value) => {
    const answer = await call('traced', { trace: value });
    expectToolRefusal(answer, RENDER_FAILED);
    await guard.end([answer.text]);
  });

  it('should send a header value that is itself a placeholder literally', async () => {
    const answer = await call('traced', { trace: '{{member_id}}' });
    expect(resultOf(answer).isError).toBeUndefined();
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    expect(upstream.requests[0]!.headers['x-trace']).toBe('{{member_id}}');
  });

  it('should send a body value that is itself a placeholder literally', async () => {
    const answer = await call('note', { text: '{{project_id}}' }, member.token);
    expect(resultOf(answer).isError).toBeUndefined();
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    expect(JSON.parse(upstream.requests[0]!.body)).toEqual({
      note: '{{project_id}}',
      owner: alice.projectId,
    });
  });

  // Reserved variables come from the credential only.
  it.each([
    ['member_id', { text: 'x', member_id: '00000000-0000-4000-8000-000000000000' }],
    ['project_id', { text: 'x', project_id: '00000000-0000-4000-8000-000000000000' }],
    ['integration_id', { text: 'x', integration_id: '00000000-0000-4000-8000-000000000000' }],
    ['all three', { member_id: 'm', project_id: 'p', integration_id: 'i' }],
  ])('should refuse %s passed as an argument', async (_name, args) => {
    const answer = await call('note', args);
    expectToolRefusal(answer, RESERVED);
    await guard.end([answer.text]);
  });

  it('should refuse member_id passed as an argument by a member session', async () => {
    const answer = await call('note', { text: 'x', member_id: 'someone-else' }, member.token);
    expectToolRefusal(answer, RESERVED);
    await guard.end([answer.text]);
  });

  // Templates themselves, at registration: no way to reach framing, identity or other hosts.
  const tool = (overrides: Record<string, unknown>) => ({
    name: `evil_${Math.random().toString(36).slice(2, 10)}`,
    description: 'injection',
    method: 'GET',
    base_url: upstream.origin,
    endpoint_path: '/x',
    input_schema: { type: 'object', properties: { x: { type: 'string' } } },
    ...overrides,
  });
  it.each([
    [
      'a templated Host header',
      { header_template: { Host: 'internal.example' } },
      422,
      [{ path: 'header_template.Host', message: 'is set by tengine and cannot be templated' }],
    ],
    [
      'a templated X-Tengine-Member-Id header',
      { header_template: { 'X-Tengine-Member-Id': '{{x}}' } },
      422,
      [
        {
          path: 'header_template.X-Tengine-Member-Id',
          message: 'is set by tengine and cannot be templated',
        },
      ],
    ],
    [
      'a templated Transfer-Encoding header',
      { header_template: { 'Transfer-Encoding': 'chunked' } },
      422,
      [
        {
          path: 'header_template.Transfer-Encoding',
          message: 'is set by tengine and cannot be templated',
        },
      ],
    ],
    [
      'a templated Authorization header',
      { header_template: { Authorization: 'Bearer {{x}}' } },
      422,
      [
        {
          path: 'header_template.Authorization',
          message: "cannot be templated: use auth_strategy 'bearer' with encrypted_auth_secret",
        },
      ],
    ],
    [
      'a header name with CR/LF',
      { header_template: { 'X-A\r\nX-B': 'v' } },
      422,
      [{ path: 'header_template.X-A\r\nX-B', message: 'is not a valid HTTP header name' }],
    ],
    [
      'a header template value with CR/LF',
      { header_template: { 'X-Ok': 'a\r\nX-Injected: 1' } },
      422,
      [{ path: 'header_template.X-Ok', message: 'must not contain CR, LF or NUL' }],
    ],
    [
      'an endpoint_path starting with //',
      { endpoint_path: '//evil.example/x' },
      400,
      'endpoint_path must not start with //',
    ],
    [
      'an endpoint_path without its leading slash',
      { endpoint_path: 'x/{{x}}' },
      400,
      'endpoint_path must start with /',
    ],
    [
      'an endpoint_path with a query',
      { endpoint_path: '/x?admin=1' },
      400,
      'endpoint_path must not contain "?" or "#": put query parameters in query_template',
    ],
    [
      'an endpoint_path with a NUL byte',
      { endpoint_path: '/x\u0000' },
      400,
      'endpoint_path must not contain whitespace',
    ],
    [
      'a templated host in base_url',
      { base_url: 'https://{{x}}.example.com' },
      400,
      'base_url must have a static host (no {{…}} placeholders)',
    ],
    [
      '{{member_id}} in a tool without require_member',
      { endpoint_path: '/users/{{member_id}}' },
      400,
      'endpoint_path uses {{member_id}} but require_member=False',
    ],
    [
      'a reserved variable declared in input_schema',
      { input_schema: { type: 'object', properties: { project_id: { type: 'string' } } } },
      400,
      'Reserved variable cannot be provided as user input',
    ],
  ])('should refuse registering %s', async (_name, overrides, status, detail) => {
    const before = await platform.call('GET', '/api/v1/custom-tools', { token: alice.apiKey });
    const answer = await platform.call('POST', '/api/v1/custom-tools', {
      token: alice.apiKey,
      body: tool(overrides),
    });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({ status, detail });
    const after = await platform.call('GET', '/api/v1/custom-tools', { token: alice.apiKey });
    expect(after.text).toBe(before.text);
    await guard.end([answer.text]);
  });
});
