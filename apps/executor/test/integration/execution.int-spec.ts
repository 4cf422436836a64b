import { gzipSync } from 'node:zlib';

import { Webhook } from 'standardwebhooks';

import { EXECUTOR_ERRORS, type RunEvent, type Tool } from '@tengine/contracts';
import type { RunningService } from '@tengine/runtime';
import { MemoryReplayStore, verifyRequest } from '@tengine/sdk';

import {
  executorHarness,
  json,
  principalFor,
  secretKey,
  TestUpstream,
  type ExecutorHarness,
} from './harness.js';

const WEBHOOK_SECRET = `whsec_${Buffer.from('executor-integration-secret-0001').toString('base64')}`;

describe('executor: rendering, signing, errors and retries against a local API', () => {
  let harness: ExecutorHarness;
  let upstream: TestUpstream;
  let executor: RunningService;

  beforeAll(async () => {
    upstream = await TestUpstream.start();
    harness = await executorHarness({ TENGINE_EGRESS_ALLOW: '127.0.0.1/32' });
    executor = await harness.startExecutor();
  });

  afterAll(async () => {
    await harness?.close();
    await upstream?.close();
  });

  beforeEach(() => {
    upstream.handler = (request, response) =>
      json(response, 200, { method: request.method, url: request.url });
  });

  async function tool(overrides: Parameters<ExecutorHarness['createTool']>[0]): Promise<Tool> {
    return harness.createTool({ base_url: upstream.url(), ...overrides });
  }

  it('should keep every traversal string inside its path segment, end to end', async () => {
    const echo = await tool({ name: 'path_echo', endpoint_path: '/files/{{id}}/meta' });
    const cases: Array<[string, string]> = [
      ['../admin', '/files/..%2Fadmin/meta'],
      ['a/b', '/files/a%2Fb/meta'],
      ['a?x=1', '/files/a%3Fx%3D1/meta'],
      ['%2e%2e', '/files/%252e%252e/meta'],
      ['..\\..\\etc', '/files/..%5C..%5Cetc/meta'],
    ];
    for (const [id, path] of cases) {
      const reply = await harness.execute(echo, { id });
      expect(reply).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(reply.upstream?.json).toEqual({ method: 'GET', url: path });
    }
    const refused = await harness.execute(echo, { id: '..' });
    expect(refused).toMatchObject({
      status: 'rejected',
      attempts: 0,
      error: { code: 'EXECUTOR_RENDER_FAILED', status: 400 },
    });
    expect(upstream.received('/files/../')).toHaveLength(0);
  });

  it('should render query, headers and a JSON body, and inject identity headers', async () => {
    const create = await tool({
      name: 'create_note',
      method: 'POST',
      endpoint_path: '/members/{{member_id}}/notes',
      query_template: { q: '{{q}}', fixed: 'yes' },
      header_template: { 'X-Account': 'acct-{{account}}' },
      body_template: { text: '{{text}}', count: '{{count}}', project: '{{project_id}}' },
      require_member: true,
    });
    const principal = principalFor(harness.projectId, { externalId: 'alice@example.com' });
    if (principal.kind !== 'member_session') throw new Error('member expected');
    const reply = await harness.execute(
      create,
      { q: 'a&b=c', account: '7', text: 'x", "admin": true', count: 2 },
      { principal },
    );
    expect(reply.status).toBe('succeeded');
    const [received] = upstream.received(`/members/${principal.memberId}/notes`);
    expect(received?.url).toBe(`/members/${principal.memberId}/notes?q=a%26b%3Dc&fixed=yes`);
    expect(JSON.parse(received?.body ?? '')).toEqual({
      text: 'x", "admin": true',
      count: 2,
      project: harness.projectId,
    });
    expect(received?.headers).toMatchObject({
      'x-account': 'acct-7',
      'content-type': 'application/json',
      'x-tengine-project-id': harness.projectId,
      'x-tengine-integration-id': principal.integrationId,
      'x-tengine-member-id': principal.memberId,
      'x-tengine-member-external-id': 'alice%40example.com',
      'x-tengine-run-id': reply.runId,
    });
    expect(received?.headers['idempotency-key']).toMatch(/^tng_/);
    // No credential reaches the API unless the tool's auth strategy sends one.
    expect(received?.headers).not.toHaveProperty('authorization');
    expect(received?.headers).not.toHaveProperty('cookie');

    const refused = await harness.execute(
      create,
      { q: '1', account: '1\r\nX-Admin: 1', text: 't', count: 1 },
      { principal },
    );
    expect(refused.error).toMatchObject({
      code: 'EXECUTOR_RENDER_FAILED',
      excerpt: expect.stringMatching(/line break/) as unknown,
    });
    const withApiKey = await harness.execute(create, { q: '1', account: '1', text: 't', count: 1 });
    expect(withApiKey.error).toMatchObject({
      code: 'EXECUTOR_MEMBER_REQUIRED',
      status: 403,
      detail: 'Member context required for this tool',
    });
    const forged = await harness.execute(
      create,
      { q: '1', account: '1', text: 't', count: 1, member_id: 'x' },
      { principal },
    );
    expect(forged.error).toMatchObject({
      code: 'EXECUTOR_RESERVED_VARIABLE',
      status: 400,
      detail: 'Reserved variable cannot be provided as user input',
    });
  });

  it('should send a bearer secret and scrub it from anything echoed back', async () => {
    const bearer = await tool({
      name: 'bearer_echo',
      endpoint_path: '/bearer',
      auth_strategy: 'bearer',
      encrypted_auth_secret: 'sk_live_0123456789abcdef',
    });
    upstream.handler = (request, response) =>
      json(response, 200, { saw: request.headers.authorization });
    const reply = await harness.execute(bearer, {});
    expect(upstream.received('/bearer')[0]?.headers.authorization).toBe(
      'Bearer sk_live_0123456789abcdef',
    );
    expect(reply.upstream?.json).toEqual({ saw: 'Bearer [REDACTED]' });
    expect(JSON.stringify(reply)).not.toContain('sk_live_0123456789abcdef');
  });

  it('should sign hmac_signature tools so that standardwebhooks and verifyRequest accept them', async () => {
    const signed = await tool({
      name: 'signed_post',
      method: 'POST',
      endpoint_path: '/signed/{{id}}',
      query_template: { b: '2', a: '1' },
      body_template: { id: '{{id}}' },
      auth_strategy: 'hmac_signature',
      encrypted_auth_secret: WEBHOOK_SECRET,
    });
    const store = new MemoryReplayStore();
    const verdicts: string[] = [];
    upstream.handler = async (request, response) => {
      new Webhook(WEBHOOK_SECRET).verify(request.body, request.headers as Record<string, string>);
      const verified = await verifyRequest({
        secret: WEBHOOK_SECRET,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        replayStore: store,
      });
      verdicts.push(verified.idempotencyKey);
      // The same request replayed by an attacker is refused.
      await verifyRequest({
        secret: WEBHOOK_SECRET,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        replayStore: store,
      }).catch((error: { code: string }) => verdicts.push(error.code));
      json(response, 201, { created: true });
    };
    const reply = await harness.execute(signed, { id: 'a/b' });
    expect(reply).toMatchObject({ status: 'succeeded', upstream: { status: 201 } });
    expect(verdicts).toEqual([expect.stringMatching(/^tng_/) as unknown, 'REPLAYED']);
  });

  it('should reproduce the reference 502 for a non-2xx answer, with status and a bounded excerpt', async () => {
    const failing = await tool({ name: 'failing', method: 'POST', endpoint_path: '/fail' });
    upstream.handler = (_request, response) => json(response, 422, { error: 'x'.repeat(5_000) });
    const reply = await harness.execute(failing, {});
    expect(reply).toMatchObject({
      status: 'failed',
      attempts: 1,
      upstream: { status: 422 },
      error: {
        code: 'EXECUTOR_UPSTREAM_NON_2XX',
        status: 502,
        detail: 'Upstream tool call failed — non-2xx response',
        upstreamStatus: 422,
      },
    });
    expect(reply.error?.excerpt?.length).toBeLessThanOrEqual(512);
  });

  it('should reproduce the reference 502 for an unreachable API', async () => {
    const closed = await TestUpstream.start();
    const url = closed.url();
    await closed.close();
    const unreachable = await harness.createTool({
      name: 'unreachable',
      base_url: url,
      endpoint_path: '/',
    });
    const reply = await harness.execute(unreachable, {});
    expect(reply).toMatchObject({
      status: 'failed',
      // Nothing was sent: every attempt is allowed.
      attempts: 3,
      error: {
        code: 'EXECUTOR_UPSTREAM_CONNECTION_ERROR',
        status: 502,
        detail: 'Upstream tool call failed — connection error',
        excerpt: expect.stringContaining('ECONNREFUSED') as unknown,
      },
    });
  });

  it('should reproduce the reference 500 for a timeout, and call an unanswered POST indeterminate', async () => {
    upstream.handler = () => undefined; // never answers
    const slowRead = await tool({
      name: 'slow_read',
      endpoint_path: '/slow-read',
      timeout_ms: 200,
    });
    const read = await harness.execute(slowRead, {});
    expect(read).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { code: 'EXECUTOR_UPSTREAM_TIMEOUT', status: 500, detail: 'Tool execution timed out' },
    });
    const slowWrite = await tool({
      name: 'slow_write',
      method: 'POST',
      endpoint_path: '/slow-write',
      timeout_ms: 200,
    });
    const write = await harness.execute(slowWrite, {});
    expect(write).toMatchObject({
      status: 'indeterminate',
      attempts: 1,
      error: { code: 'EXECUTOR_UPSTREAM_TIMEOUT', status: 500, detail: 'Tool execution timed out' },
    });
    expect(upstream.received('/slow-write')).toHaveLength(1);
  });

  it('should reproduce the reference 500 for an undecryptable secret', async () => {
    const secretTool = await tool({
      name: 'secret_tool',
      endpoint_path: '/secret',
      auth_strategy: 'bearer',
      encrypted_auth_secret: 'sk_test_abcdefghijklmnop',
    });
    // Only a registry replica whose keyring lacks the key that sealed the secret answers now.
    const wrongKeys = await harness.startRegistry({ TENGINE_SECRET_KEYS: secretKey('k9') });
    await harness.stopRegistry(harness.registry);
    try {
      const reply = await harness.execute(secretTool, {});
      expect(reply).toMatchObject({
        status: 'failed',
        error: {
          code: 'EXECUTOR_SECRET_DECRYPT_FAILED',
          status: 500,
          detail: 'Failed to decrypt auth secret',
          fix: EXECUTOR_ERRORS.EXECUTOR_SECRET_DECRYPT_FAILED.fix,
        },
      });
      expect(upstream.received('/secret')).toHaveLength(0);
    } finally {
      await harness.startRegistry();
      await harness.stopRegistry(wrongKeys);
    }
  });

  it('should retry a read on 503 honouring Retry-After, but never a write', async () => {
    let calls = 0;
    const times: number[] = [];
    upstream.handler = (_request, response) => {
      calls += 1;
      times.push(Date.now());
      if (calls === 1) json(response, 503, { busy: true }, { 'retry-after': '0' });
      else json(response, 200, { ok: calls });
    };
    const read = await tool({ name: 'flaky_read', endpoint_path: '/flaky' });
    await expect(harness.execute(read, {})).resolves.toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });

    calls = 0;
    upstream.handler = (_request, response) => {
      calls += 1;
      json(response, 503, { busy: true });
    };
    const write = await tool({
      name: 'flaky_write',
      method: 'POST',
      endpoint_path: '/flaky-write',
    });
    await expect(harness.execute(write, {})).resolves.toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'EXECUTOR_UPSTREAM_NON_2XX', upstreamStatus: 503 },
    });
    expect(calls).toBe(1);
    const idempotentWrite = await tool({
      name: 'idempotent_write',
      method: 'POST',
      endpoint_path: '/idempotent-write',
      annotations: { idempotentHint: true },
    });
    await expect(harness.execute(idempotentWrite, {})).resolves.toMatchObject({ attempts: 3 });
  });

  it('should not wait for a Retry-After beyond the cap', async () => {
    upstream.handler = (_request, response) => json(response, 429, {}, { 'retry-after': '120' });
    const limited = await tool({ name: 'limited', endpoint_path: '/limited' });
    const started = Date.now();
    await expect(harness.execute(limited, {})).resolves.toMatchObject({
      status: 'failed',
      attempts: 1,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('should never follow a redirect', async () => {
    upstream.handler = (_request, response) => {
      response.writeHead(302, { location: `${upstream.url()}/elsewhere` });
      response.end();
    };
    const moved = await tool({ name: 'moved', endpoint_path: '/moved' });
    const reply = await harness.execute(moved, {});
    expect(reply).toMatchObject({
      status: 'failed',
      error: { code: 'EXECUTOR_UPSTREAM_REDIRECT', status: 502, upstreamStatus: 302 },
    });
    expect(upstream.received('/elsewhere')).toHaveLength(0);
  });

  it('should cap responses, compressed ones after decompression (gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    upstream.handler = (request, response) => {
      if (request.url === '/bomb') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(bomb);
      } else {
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(gzipSync(JSON.stringify({ small: true })));
      }
    };
    const bombTool = await tool({ name: 'bomb', endpoint_path: '/bomb' });
    await expect(harness.execute(bombTool, {})).resolves.toMatchObject({
      status: 'failed',
      error: { code: 'EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE', status: 502 },
    });
    const small = await tool({ name: 'small_gzip', endpoint_path: '/small' });
    await expect(harness.execute(small, {})).resolves.toMatchObject({
      status: 'succeeded',
      upstream: { json: { small: true } },
    });
    expect(bomb.length).toBeLessThan(100 * 1024);
  });

  it('should record and replay answers holding U+0000, which PostgreSQL text cannot store', async () => {
    upstream.handler = (request, response) => {
      if (request.url === '/nul-bytes') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(Buffer.from('before\u0000after'));
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"name":"a\\u0000b"}');
      }
    };
    for (const [name, path] of [
      ['nul_bytes', '/nul-bytes'],
      ['nul_escape', '/nul-escape'],
    ] as const) {
      const nulTool = await tool({ name, method: 'POST', endpoint_path: path });
      const first = await harness.execute(nulTool, {}, { idempotencyKey: `${name}-1` });
      expect(first).toMatchObject({ status: 'succeeded', replayed: false });
      const replay = await harness.execute(nulTool, {}, { idempotencyKey: `${name}-1` });
      expect(replay).toMatchObject({
        status: 'succeeded',
        replayed: true,
        upstream: first.upstream,
      });
      expect(upstream.received(path)).toHaveLength(1);
    }
  });

  it('should refuse disabled and unknown tools as "Tool not enabled for this project"', async () => {
    const disabled = await tool({
      name: 'disabled_tool',
      endpoint_path: '/disabled',
      is_enabled: false,
    });
    await expect(harness.execute(disabled, {})).resolves.toMatchObject({
      status: 'rejected',
      error: {
        code: 'EXECUTOR_TOOL_UNAVAILABLE',
        status: 403,
        detail: 'Tool not enabled for this project',
      },
    });
    await expect(harness.execute({ name: 'no_such_tool', version: 1 }, {})).resolves.toMatchObject({
      status: 'rejected',
      error: { code: 'EXECUTOR_TOOL_UNAVAILABLE' },
    });
    expect(upstream.received('/disabled')).toHaveLength(0);
  });

  it('should publish started and terminal events, acknowledged before the reply', async () => {
    const evented = await tool({
      name: 'evented',
      method: 'POST',
      endpoint_path: '/evented',
      body_template: { secret: '{{s}}' },
    });
    const reply = await harness.execute(evented, { s: 'argument-value-not-for-audit' });
    // Read right after the reply, without waiting: the terminal event must already be stored.
    const events = (await harness.runEvents()).filter(
      (event: RunEvent) => event.runId === reply.runId,
    );
    expect(events.map((event) => event.event)).toEqual(['started', 'succeeded']);
    expect(events[1]).toMatchObject({
      projectId: harness.projectId,
      tool: { name: 'evented', version: 1, id: evented.id },
      method: 'POST',
      host: `127.0.0.1:${upstream.port}`,
      status: 'succeeded',
      upstreamStatus: 200,
      attempts: 1,
      replayed: false,
      errorCode: null,
      principalKind: 'api_key',
      keyId: 'key_test',
    });
    expect(JSON.stringify(events)).not.toContain('argument-value-not-for-audit');
    expect(executor.name).toBe('executor');
  });
});
