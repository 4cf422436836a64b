import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import {
  MemoryReplayStore,
  RequestVerificationError,
  verifyRequest,
  type VerifiedRequest,
} from '@tengine/sdk';

import { AttackGuard } from './support/guard.js';
import { mcp, resultOf, toolCall } from './support/mcp.js';
import {
  createTenant,
  createTool,
  mintSession,
  startAttackPlatform,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import {
  startRecordingUpstream,
  type RecordedRequest,
  type RecordingUpstream,
} from './support/upstream.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** The headers tengine signs or identifies itself with, as a receiver reads them. */
const FORWARDED = [
  'content-type',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-tengine-signature',
  'x-tengine-project-id',
  'x-tengine-integration-id',
  'x-tengine-member-id',
  'x-tengine-member-external-id',
  'x-tengine-run-id',
  'idempotency-key',
];

/** A request as an attacker would resend it: method, target, headers and body. */
interface Forged {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

function copyOf(recorded: RecordedRequest): Forged {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = recorded.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return { method: recorded.method, url: recorded.url, headers, body: recorded.body };
}

/** The signature a holder of `secret` would compute over `id.timestamp.body` (Standard Webhooks). */
function webhookSignature(secret: string, forged: Forged): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const content = `${forged.headers['webhook-id']}.${forged.headers['webhook-timestamp']}.${forged.body}`;
  return `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
}

describe('signed requests: what the API receives cannot be replayed or altered', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let bob: Tenant;
  let member: { token: string; memberId: string };
  /** The receiver's replay store, shared by every request it verifies. */
  const store = new MemoryReplayStore();
  /** Requests the receiver accepted: each one is an effect. */
  const accepted: VerifiedRequest[] = [];
  /** When set, the next request is swallowed (an attacker intercepted it) instead of verified. */
  let intercept = false;
  let delivered: RecordedRequest;
  let intercepted: RecordedRequest;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    // The customer's API: verifies every request with the SDK before acting on it.
    upstream.route('/orders', (_request, response, recorded) => {
      if (intercept) {
        intercept = false;
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      verifyRequest({
        secret: SECRET,
        method: recorded.method,
        url: recorded.url,
        headers: recorded.headers,
        body: recorded.body,
        replayStore: store,
      }).then(
        (identity) => {
          accepted.push(identity);
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        },
        (error: unknown) => {
          const code = error instanceof RequestVerificationError ? error.code : 'ERROR';
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ code }));
        },
      );
    });
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    });
    platform.secrets.add(SECRET).add(SECRET.slice('whsec_'.length));
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform, { environment: 'development' });
    bob = await createTenant(platform, { environment: 'development' });
    platform.secrets.add(alice.apiKey).add(bob.apiKey);
    await createTool(platform, alice, {
      name: 'order',
      method: 'POST',
      base_url: upstream.origin,
      endpoint_path: '/orders/{{id}}',
      query_template: { q: '{{q}}', limit: '10' },
      body_template: { amount: '{{amount}}' },
      auth_strategy: 'hmac_signature',
      encrypted_auth_secret: SECRET,
      input_schema: {
        type: 'object',
        properties: { id: { type: 'string' }, q: { type: 'string' }, amount: { type: 'number' } },
        required: ['id', 'amount'],
      },
    });
    const session = await mintSession(platform, alice, 'payer@example.com');
    member = { token: session.token, memberId: session.memberId };
    const order = (amount: number) =>
      mcp(platform, {
        token: member.token,
        body: toolCall('order', { id: '42', q: 'x y', amount }),
      });

    // Control: the executor's signed request is accepted by the SDK exactly once.
    const first = await order(5);
    if (resultOf(first).isError || accepted.length !== 1) {
      throw new Error(`signed call not accepted: ${first.text}`);
    }
    delivered = upstream.requests[0]!;
    // A second call, swallowed by an attacker in the middle: never seen by the receiver.
    intercept = true;
    const second = await order(7);
    if (resultOf(second).isError) throw new Error(`intercepted call failed: ${second.text}`);
    intercepted = upstream.requests[1]!;
    // Control: untouched, the intercepted request would have been accepted.
    await verifyRequest({
      secret: SECRET,
      method: intercepted.method,
      url: intercepted.url,
      headers: intercepted.headers,
      body: intercepted.body,
      replayStore: new MemoryReplayStore(),
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());
  afterEach(() => jest.restoreAllMocks());

  /** Sends a forged request straight to the customer's API, as an attacker on the network would. */
  const send = (forged: Forged): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const request = httpRequest(
        `${upstream.origin}${forged.url}`,
        {
          method: forged.method,
          headers: { ...forged.headers, 'content-length': String(Buffer.byteLength(forged.body)) },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('error', reject);
      request.end(forged.body);
    });

  const expectRefused = async (forged: Forged, code: string): Promise<void> => {
    const effects = accepted.length;
    const answer = await send(forged);
    expect({ status: answer.status, body: JSON.parse(answer.text) as unknown }).toEqual({
      status: 401,
      body: { code },
    });
    expect(accepted.length).toBe(effects);
    // Only the forged request itself reached the API; tengine sent nothing.
    await guard.end([], [{ upstream, requests: 1 }]);
  };

  const at = (offsetSeconds: number): void => {
    const now = Date.now() + offsetSeconds * 1000;
    jest.spyOn(Date, 'now').mockReturnValue(now);
  };

  it.each([
    ['an exact replay within the tolerance', 0, 'REPLAYED'],
    ['an exact replay 301 s later', 301, 'TIMESTAMP_OUT_OF_TOLERANCE'],
    ['an exact replay an hour later', 3600, 'TIMESTAMP_OUT_OF_TOLERANCE'],
    ['a replay to a receiver whose clock is 6 minutes behind', -360, 'TIMESTAMP_OUT_OF_TOLERANCE'],
  ])('should refuse %s', async (_name, offset, code) => {
    at(offset);
    await expectRefused(copyOf(delivered), code);
  });

  const tamper = (change: (forged: Forged) => void): Forged => {
    const forged = copyOf(intercepted);
    change(forged);
    return forged;
  };
  const setHeader = (name: string, value: string) => (forged: Forged) => {
    forged.headers[name] = value;
  };

  it.each<[string, (forged: Forged) => void, string]>([
    ['the method changed to PUT', (f) => (f.method = 'PUT'), 'INVALID_CANONICAL_SIGNATURE'],
    ['the method changed to DELETE', (f) => (f.method = 'DELETE'), 'INVALID_CANONICAL_SIGNATURE'],
    [
      'the path id changed',
      (f) => (f.url = f.url.replace('/orders/42', '/orders/43')),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'a traversal appended to the path',
      (f) => (f.url = f.url.replace('/orders/42', '/orders/42/../admin')),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'a trailing slash added to the path',
      (f) => (f.url = f.url.replace('/orders/42', '/orders/42/')),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'a query value changed',
      (f) => (f.url = f.url.replace('limit=10', 'limit=1000')),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'a query parameter added',
      (f) => (f.url = `${f.url}&admin=true`),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'a query parameter duplicated',
      (f) => (f.url = `${f.url}&limit=10`),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    ['the query removed', (f) => (f.url = f.url.split('?')[0]!), 'INVALID_CANONICAL_SIGNATURE'],
    ['the body amount changed', (f) => (f.body = f.body.replace('7', '7000')), 'INVALID_SIGNATURE'],
    ['whitespace added to the body', (f) => (f.body = ` ${f.body}`), 'INVALID_SIGNATURE'],
    ['the body removed', (f) => (f.body = ''), 'INVALID_SIGNATURE'],
    [
      'X-Tengine-Project-Id set to another project',
      (f) => setHeader('x-tengine-project-id', bob.projectId)(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'X-Tengine-Integration-Id set to another integration',
      (f) => setHeader('x-tengine-integration-id', bob.integrationId)(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'X-Tengine-Member-Id set to another member',
      (f) => setHeader('x-tengine-member-id', '00000000-0000-4000-8000-000000000001')(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'X-Tengine-Member-External-Id set to another user',
      (f) => setHeader('x-tengine-member-external-id', 'admin%40example.com')(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'the member headers removed (posing as an API-key call)',
      (f) => {
        delete f.headers['x-tengine-member-id'];
        delete f.headers['x-tengine-member-external-id'];
      },
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'X-Tengine-Run-Id set to another run',
      (f) => setHeader('x-tengine-run-id', '01JD0000000000000000000000')(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'the Idempotency-Key changed',
      (f) => setHeader('idempotency-key', 'tng_attacker')(f),
      'INVALID_CANONICAL_SIGNATURE',
    ],
    [
      'webhook-timestamp moved by one second',
      (f) => setHeader('webhook-timestamp', String(Number(f.headers['webhook-timestamp']) + 1))(f),
      'INVALID_SIGNATURE',
    ],
    [
      'webhook-id changed (to dodge the replay store)',
      (f) => setHeader('webhook-id', `${f.headers['webhook-id']}0`)(f),
      'INVALID_SIGNATURE',
    ],
    [
      'X-Tengine-Signature removed',
      (f) => delete f.headers['x-tengine-signature'],
      'MISSING_HEADERS',
    ],
    [
      'webhook-signature made with another secret',
      (f) => setHeader('webhook-signature', webhookSignature(OTHER_SECRET, f))(f),
      'INVALID_SIGNATURE',
    ],
    [
      "the body changed and re-signed for Standard Webhooks with another tool's secret",
      (f) => {
        f.body = f.body.replace('7', '9');
        f.headers['webhook-signature'] = webhookSignature(OTHER_SECRET, f);
      },
      'INVALID_SIGNATURE',
    ],
  ])('should refuse the intercepted request with %s', async (_name, change, code) => {
    await expectRefused(tamper(change), code);
  });

  it('should not have forwarded the caller credential or the tool secret to the API', async () => {
    for (const recorded of [delivered, intercepted]) {
      const text = JSON.stringify(recorded);
      expect(text).not.toContain(member.token);
      expect(text).not.toContain(SECRET.slice('whsec_'.length));
      expect(recorded.headers['authorization']).toBeUndefined();
    }
    await guard.end([JSON.stringify([delivered, intercepted])]);
  });
});
