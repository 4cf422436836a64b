import { connect, type Socket } from 'node:net';

import { waitUntil } from '@tengine/testing';

import { AttackGuard } from './support/guard.js';
import {
  expectRpcRefusal,
  expectToolRefusal,
  INITIALIZE,
  mcp,
  resultOf,
  toolCall,
} from './support/mcp.js';
import {
  createApiKey,
  createTenant,
  createTool,
  startAttackPlatform,
  type Answer,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

const MAX_STREAMS = 5;
const PRINCIPAL_CONCURRENCY = 4;
const PROJECT_CONCURRENCY = 6;
const MAX_RESPONSE_BYTES = 1 << 20;
/** The gateway's deadline for a whole request (headers and body) is 30 s; allow a little slack. */
const SLOW_CLIENT_DEADLINE_MS = 36_000;

/** A slowloris client: sends `head`, then one more byte (or header line) every few seconds. */
interface SlowClient {
  readonly socket: Socket;
  /** Resolves with what the server wrote before closing, and when it closed. */
  readonly closed: Promise<{ answer: string; afterMs: number }>;
}

function slowClient(port: number, head: string, drip: string): SlowClient {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip);
  }, 3_000);
  socket.on('connect', () => socket.write(head));
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<{ answer: string; afterMs: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, afterMs: Date.now() - started });
    });
  });
  return { socket, closed };
}

describe('resource exhaustion', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let secondKey: string;
  const slow: Record<string, SlowClient[]> = {};

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
      MCP_MAX_STREAMS: String(MAX_STREAMS),
      MCP_PRINCIPAL_CONCURRENCY: String(PRINCIPAL_CONCURRENCY),
      MCP_PROJECT_CONCURRENCY: String(PROJECT_CONCURRENCY),
      TENGINE_EXECUTOR_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
    });
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform);
    secondKey = (
      await createApiKey(platform, alice.projectId, alice.integrationId, ['mcp:connect'])
    ).key;
    platform.secrets.add(alice.apiKey).add(secondKey);
    const tool = (name: string, path: string, extra: Record<string, unknown> = {}) =>
      createTool(platform, alice, {
        name,
        method: 'GET',
        base_url: upstream.origin,
        endpoint_path: path,
        ...extra,
      });
    await tool('hang', '/hang', { method: 'POST', timeout_ms: 30_000 });
    await tool('huge', '/huge');
    await tool('endless', '/endless');
    await tool('gzip_bomb', '/bomb/gzip');
    await tool('deflate_bomb', '/bomb/deflate');
    await tool('brotli_bomb', '/bomb/br');
    await tool('silent', '/hang', { method: 'POST', timeout_ms: 1_000 });
    await tool('drip', '/drip', { method: 'POST', timeout_ms: 1_000 });

    // Slow clients start now and are judged by the last tests, while the others run meanwhile.
    const port = Number(new URL(platform.url).port);
    const post = (path: string, length: number) =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${alice.apiKey}\r\n` +
      `Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    slow['headers'] = [
      slowClient(port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n'),
    ];
    slow['body'] = [
      slowClient(port, `${post('/mcp', 4096)}{"jsonrpc":"2.0","id":1,"method":"tools/call",`, ' '),
    ];
    slow['crowd'] = Array.from({ length: 100 }, () =>
      slowClient(port, `${post('/api/v1/integrations', 4096)}{"kind":`, ' '),
    );
    upstream.reset();
  });

  afterAll(async () => {
    for (const client of Object.values(slow).flat()) client.socket.destroy();
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  const call = (name: string, token = alice.apiKey): Promise<Answer> =>
    mcp(platform, { token, body: toolCall(name) });

  it('should absorb a flood of 300 sessions that are never deleted', async () => {
    const answers: Answer[] = [];
    for (let round = 0; round < 6; round += 1) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, () =>
            mcp(platform, { token: alice.apiKey, body: INITIALIZE }),
          ),
        )),
      );
    }
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const ids = new Set(answers.map((answer) => answer.headers.get('mcp-session-id')));
    expect(ids.size).toBe(300);
    // Sessions hold no server state: the first one still works, and so does a fresh request.
    const first = [...ids][0]!;
    const reuse = await mcp(platform, {
      token: alice.apiKey,
      headers: { 'mcp-session-id': first },
      body: { jsonrpc: '2.0', id: 2, method: 'ping' },
    });
    expect(reuse.status).toBe(200);
    await guard.end([reuse.text, answers[0]!.text]);
  });

  it(`should refuse the SSE stream beyond ${MAX_STREAMS} open streams with 503`, async () => {
    const controllers: AbortController[] = [];
    const open = async (): Promise<Response> => {
      const controller = new AbortController();
      controllers.push(controller);
      return fetch(`${platform.url}/mcp`, {
        headers: { authorization: `Bearer ${alice.apiKey}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
    };
    try {
      const streams = await Promise.all(Array.from({ length: MAX_STREAMS }, open));
      expect(streams.map((stream) => stream.status)).toEqual(streams.map(() => 200));
      const refused = await open();
      const text = await refused.text();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(text)).toEqual({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Too many open streams on this gateway; retry shortly' },
        id: null,
      });
      await guard.end([text]);
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });

  it(`should refuse a credential's call beyond ${PRINCIPAL_CONCURRENCY} concurrent calls with 429`, async () => {
    const inFlight = Array.from({ length: PRINCIPAL_CONCURRENCY }, () => call('hang'));
    try {
      await waitForRequests(PRINCIPAL_CONCURRENCY);
      const refused = await call('hang');
      expectRpcRefusal(refused, {
        status: 429,
        code: -32029,
        message:
          'Too many concurrent tool calls for this credential or project; retry after a moment',
      });
      expect(refused.headers.get('retry-after')).toBe('1');
      // The refused call never reached the API: only the admitted ones are waiting there.
      await guard.end([refused.text], [{ upstream, requests: PRINCIPAL_CONCURRENCY }]);
    } finally {
      upstream.releaseHeld();
      await Promise.all(inFlight);
    }
  });

  it(`should refuse a project's call beyond ${PROJECT_CONCURRENCY} concurrent calls with 429`, async () => {
    const inFlight = [
      ...Array.from({ length: PRINCIPAL_CONCURRENCY }, () => call('hang')),
      ...Array.from({ length: PROJECT_CONCURRENCY - PRINCIPAL_CONCURRENCY }, () =>
        call('hang', secondKey),
      ),
    ];
    try {
      await waitForRequests(PROJECT_CONCURRENCY);
      const refused = await call('hang', secondKey);
      expect(refused.status).toBe(429);
      expect(refused.body['error']).toEqual({
        code: -32029,
        message:
          'Too many concurrent tool calls for this credential or project; retry after a moment',
      });
      await guard.end([refused.text], [{ upstream, requests: PROJECT_CONCURRENCY }]);
    } finally {
      upstream.releaseHeld();
      await Promise.all(inFlight);
    }
  });

  it.each([
    ['an 8 MiB body', 'huge'],
    ['an endless body', 'endless'],
    ['a gzip bomb (64 MiB of zeros)', 'gzip_bomb'],
    ['a deflate bomb (64 MiB of zeros)', 'deflate_bomb'],
    ['a brotli bomb (64 MiB of zeros)', 'brotli_bomb'],
  ])('should refuse an upstream answering with %s', async (_name, tool) => {
    const answer = await call(tool);
    expectToolRefusal(answer, {
      code: 'EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE',
      status: 502,
      runStatus: 'failed',
      text: `502 Bad Gateway: Upstream tool call failed — response too large`,
    });
    expect(resultOf(answer).content[0]!.text).toContain(`larger than ${MAX_RESPONSE_BYTES} bytes`);
    // The executor hung up on the endless body instead of reading on.
    if (tool === 'endless')
      await waitUntil(() => Promise.resolve(upstream.aborted() === 1), 5_000, 20);
    // The API's own behaviour: it was called once, and never again.
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
  });

  it.each([
    ['an upstream that never answers', 'silent'],
    ['an upstream that drips its body forever', 'drip'],
  ])('should give up on %s at the tool timeout', async (_name, tool) => {
    const started = Date.now();
    const answer = await call(tool);
    expectToolRefusal(answer, {
      code: 'EXECUTOR_UPSTREAM_TIMEOUT',
      status: 500,
      text: '500 Internal Server Error: Tool execution timed out',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await guard.end([answer.text], [{ upstream, requests: 1 }]);
    upstream.releaseHeld();
  });

  it.each([
    ['trickles its headers forever', 'headers'],
    ['trickles a tool call body forever', 'body'],
    ['is one of 100 slow clients on the management API', 'crowd'],
  ])(
    'should answer 408 and hang up on a client that %s, serving others meanwhile',
    async (_name, kind) => {
      const started = Date.now();
      const ping = await mcp(platform, {
        token: alice.apiKey,
        body: { jsonrpc: '2.0', id: 1, method: 'ping' },
      });
      expect(ping.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      const outcomes = await Promise.all(slow[kind]!.map((client) => client.closed));
      for (const outcome of outcomes) {
        expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(outcome.afterMs).toBeLessThan(SLOW_CLIENT_DEADLINE_MS);
      }
      await guard.end([...new Set(outcomes.map((outcome) => outcome.answer))]);
    },
    SLOW_CLIENT_DEADLINE_MS + 10_000,
  );

  /** Waits until the upstream holds `count` requests (the in-flight calls reached it). */
  async function waitForRequests(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (upstream.requests.length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${upstream.requests.length} requests arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
});
