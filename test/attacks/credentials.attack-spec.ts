import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

import { generateApiKey, parseApiKey, randomBase62, signSessionToken } from '@tengine/auth';
import { Keyring } from '@tengine/secrets';

import { b64, handSignedJwt } from '../../apps/platform/test/support/jwt.js';
import { AttackGuard } from './support/guard.js';
import { expectRpcRefusal, INITIALIZE, mcp, resultOf, toolCall } from './support/mcp.js';
import {
  createApiKey,
  createTenant,
  createTool,
  mintSession,
  startAttackPlatform,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

/**
 * A well-formed API key for a known key id (key ids are not secret: the list shows them) with a
 * guessed secret and the right checksum, so only identity's secret check can refuse it.
 */
function keyWithGuessedSecret(keyId: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const payload = `${keyId}${randomBase62(32)}`;
  let rest = crc32(payload);
  let checksum = '';
  for (let index = 0; index < 6; index += 1) {
    checksum = `${alphabet[rest % 62]!}${checksum}`;
    rest = Math.floor(rest / 62);
  }
  return `tengine_${payload}${checksum}`;
}

/** What a refused MCP request must look like. */
interface Refusal {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  readonly dataCode?: string;
  /** The exact `WWW-Authenticate` header of a 401. */
  readonly wwwAuthenticate?: string;
}

const MISSING: Refusal = {
  status: 401,
  code: -32001,
  message: 'Missing credentials',
  dataCode: 'IDENTITY_CREDENTIAL_MISSING',
  wwwAuthenticate: 'Bearer realm="tengine"',
};
const INVALID_KEY: Refusal = {
  status: 401,
  code: -32001,
  message: 'Invalid or inactive API key',
  dataCode: 'IDENTITY_INVALID_API_KEY',
  wwwAuthenticate: 'Bearer realm="tengine", error="invalid_token"',
};
const INVALID_CREDENTIAL: Refusal = {
  status: 401,
  code: -32001,
  message: 'Invalid or inactive credential',
  dataCode: 'IDENTITY_INVALID_CREDENTIAL',
  wwwAuthenticate: 'Bearer realm="tengine", error="invalid_token"',
};
const EXPIRED: Refusal = {
  status: 401,
  code: -32001,
  message: 'Member JWT has expired',
  dataCode: 'IDENTITY_SESSION_EXPIRED',
  wwwAuthenticate: 'Bearer realm="tengine", error="invalid_token"',
};
const SESSION_NOT_FOUND: Refusal = { status: 404, code: -32001, message: 'Session not found' };

/** One credential attack: the request's credential and headers, and the refusal it must get. */
interface CredentialAttack {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly method?: 'POST' | 'GET' | 'DELETE';
  readonly path?: string;
  readonly expected: Refusal;
}

describe('credential attacks on the MCP endpoint', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let bob: Tenant;
  let revokedKey: string;
  let keyWithoutMcp: string;
  let aliceSession: { token: string; sessionId: string; memberId: string };
  let revokedSession: string;
  let orphanSession: string;
  let aliceMcpSessionId: string;
  let bobMcpSessionId: string;
  let memberMcpSessionId: string;
  let signingKid: string;
  let expiredSession: string;
  let jwksX: string;

  /** Session-token claims for Alice, as identity would write them. */
  const sessionClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: 'tengine:identity',
      aud: 'tengine:mcp',
      sub: aliceSession.memberId,
      jti: randomUUID(),
      iat: now,
      exp: now + 900,
      pid: alice.projectId,
      iid: alice.integrationId,
      mxid: 'm1',
      akid: alice.apiKeyId,
      scp: ['mcp:connect', 'runs:read'],
      ...overrides,
    };
  };
  const attacker = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform({
      TENGINE_EGRESS_ALLOW: '127.0.0.1',
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    });
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform, { environment: 'development' });
    bob = await createTenant(platform, { environment: 'development' });
    platform.secrets.add(alice.apiKey).add(bob.apiKey);
    for (const tenant of [alice, bob]) {
      await createTool(platform, tenant, {
        name: 'echo',
        base_url: upstream.origin,
        endpoint_path: '/echo',
        body_template: { text: '{{text}}' },
        input_schema: { type: 'object', properties: { text: { type: 'string' } } },
      });
    }

    const revoked = await createApiKey(platform, alice.projectId, alice.integrationId, [
      'mcp:connect',
      'sessions:mint',
    ]);
    const orphan = await mintSession(platform, { ...alice, apiKey: revoked.key }, 'orphan');
    orphanSession = orphan.token;
    expect(
      (await platform.call('DELETE', `/api/v1/api-keys/${revoked.id}`, { token: alice.apiKey }))
        .status,
    ).toBe(200);
    revokedKey = revoked.key;
    keyWithoutMcp = (
      await createApiKey(platform, alice.projectId, alice.integrationId, ['runs:read'])
    ).key;

    aliceSession = await mintSession(platform, alice, 'm1');
    const doomed = await mintSession(platform, alice, 'm2');
    expect(
      (
        await platform.call('DELETE', `/api/v1/mcp/sessions/${doomed.sessionId}`, {
          token: alice.apiKey,
        })
      ).status,
    ).toBe(200);
    revokedSession = doomed.token;

    const sessionIdOf = async (token: string): Promise<string> => {
      const answer = await mcp(platform, { token, body: INITIALIZE });
      const id = answer.headers.get('mcp-session-id');
      if (answer.status !== 200 || !id) throw new Error(`initialize: ${answer.status}`);
      return id;
    };
    aliceMcpSessionId = await sessionIdOf(alice.apiKey);
    bobMcpSessionId = await sessionIdOf(bob.apiKey);
    memberMcpSessionId = await sessionIdOf(aliceSession.token);

    const jwks = await platform.call<{ keys: Array<{ kid: string; x: string }> }>(
      'GET',
      '/.well-known/jwks.json',
    );
    signingKid = jwks.body.keys[0]!.kid;
    jwksX = jwks.body.keys[0]!.x;
    // A genuine session token signed by identity's own key, expired an hour ago.
    const [row] = await platform.query<{ kid: string; private_key_sealed: string }>(
      'SELECT kid, private_key_sealed FROM identity.signing_keys WHERE retired_at IS NULL',
    );
    const pem = Keyring.parse(platform.secretKeys).open(
      row!.private_key_sealed,
      `identity/signing-key/${row!.kid}`,
    );
    expiredSession = (
      await signSessionToken(
        {
          projectId: alice.projectId,
          integrationId: alice.integrationId,
          memberId: aliceSession.memberId,
          memberExternalId: 'm1',
          scopes: ['mcp:connect'],
          apiKeyId: alice.apiKeyId,
        },
        createPrivateKey(pem),
        row!.kid,
        Math.floor(Date.now() / 1000) - 3600,
      )
    ).token;
    platform.secrets.add(expiredSession).add(pem.split('\n')[1]!);

    // Control: the same call with Alice's real credentials reaches the upstream once.
    const control = await mcp(platform, {
      token: alice.apiKey,
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

  const forged = (header: Record<string, unknown>, claims: Record<string, unknown>): string =>
    `tng_mst_${handSignedJwt({ typ: 'tng-mst+jwt', ...header }, claims, attacker, 'EdDSA')}`;

  const attacks: Array<[string, () => CredentialAttack]> = [
    ['no credential at all', () => ({ expected: MISSING })],
    [
      'the key in the query string only',
      () => ({ path: `/mcp?api_key=${alice.apiKey}`, expected: MISSING }),
    ],
    [
      'a malformed API key (tengine_nope)',
      () => ({ token: 'tengine_nope', expected: INVALID_KEY }),
    ],
    [
      'an API key with a bad checksum (last character changed)',
      () => ({
        token: `${alice.apiKey.slice(0, -1)}${alice.apiKey.endsWith('A') ? 'B' : 'A'}`,
        expected: INVALID_KEY,
      }),
    ],
    ['a truncated API key', () => ({ token: alice.apiKey.slice(0, -3), expected: INVALID_KEY })],
    [
      'an unknown API key with a valid checksum',
      () => ({ token: generateApiKey().key, expected: INVALID_KEY }),
    ],
    [
      "Alice's real key id with a guessed secret and a valid checksum",
      () => {
        const token = keyWithGuessedSecret(alice.apiKeyId);
        expect(parseApiKey(token)?.keyId).toBe(alice.apiKeyId);
        return { token, expected: INVALID_KEY };
      },
    ],
    ['a revoked API key', () => ({ token: revokedKey, expected: INVALID_KEY })],
    [
      'a revoked API key as X-API-Key',
      () => ({ headers: { 'x-api-key': revokedKey }, expected: INVALID_KEY }),
    ],
    [
      'an over-long bearer credential',
      () => ({ token: `tengine_${'a'.repeat(5000)}`, expected: INVALID_CREDENTIAL }),
    ],
    [
      'Basic authentication with the key as the password',
      () => ({
        headers: {
          authorization: `Basic ${Buffer.from(`x:${alice.apiKey}`).toString('base64')}`,
        },
        expected: INVALID_CREDENTIAL,
      }),
    ],
    [
      'an empty bearer token',
      () => ({ headers: { authorization: 'Bearer ' }, expected: INVALID_CREDENTIAL }),
    ],
    [
      'an unknown token without a known prefix',
      () => ({ token: `guess_${'x'.repeat(40)}`, expected: INVALID_CREDENTIAL }),
    ],
    [
      'an Mcp-Session-Id without any credential',
      () => ({ headers: { 'mcp-session-id': aliceMcpSessionId }, expected: MISSING }),
    ],
    [
      "another principal's Mcp-Session-Id (Bob's key, Alice's session)",
      () => ({
        token: bob.apiKey,
        headers: { 'mcp-session-id': aliceMcpSessionId },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      "another principal's Mcp-Session-Id (Alice's key, Bob's session)",
      () => ({
        token: alice.apiKey,
        headers: { 'mcp-session-id': bobMcpSessionId },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      "a member's Mcp-Session-Id used with the API key that minted the member",
      () => ({
        token: alice.apiKey,
        headers: { 'mcp-session-id': memberMcpSessionId },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      "the API key's Mcp-Session-Id used by one of its members",
      () => ({
        token: aliceSession.token,
        headers: { 'mcp-session-id': aliceMcpSessionId },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      'a forged Mcp-Session-Id (random nonce and digest)',
      () => ({
        token: alice.apiKey,
        headers: {
          'mcp-session-id': `${b64(Buffer.alloc(16, 7))}.${b64(Buffer.alloc(16, 9))}`,
        },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      "a foreign Mcp-Session-Id on GET (opening another principal's stream)",
      () => ({
        token: bob.apiKey,
        method: 'GET',
        headers: { 'mcp-session-id': aliceMcpSessionId, accept: 'text/event-stream' },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      "a foreign Mcp-Session-Id on DELETE (closing another principal's session)",
      () => ({
        token: bob.apiKey,
        method: 'DELETE',
        headers: { 'mcp-session-id': aliceMcpSessionId },
        expected: SESSION_NOT_FOUND,
      }),
    ],
    [
      'the platform admin token',
      () => ({
        token: platform.adminToken,
        expected: {
          status: 403,
          code: -32000,
          message:
            'The admin token cannot call tools; use a project API key or a member session token',
          dataCode: 'IDENTITY_SCOPE_MISSING',
        },
      }),
    ],
    [
      'an API key without mcp:connect',
      () => ({
        token: keyWithoutMcp,
        expected: {
          status: 403,
          code: -32000,
          message: 'API key is missing the required scope: mcp:connect',
          dataCode: 'IDENTITY_SCOPE_MISSING',
        },
      }),
    ],
    [
      'a genuine session token expired an hour ago',
      () => ({ token: expiredSession, expected: EXPIRED }),
    ],
    ['a revoked session token', () => ({ token: revokedSession, expected: INVALID_CREDENTIAL })],
    [
      'a session token minted by a key revoked since',
      () => ({ token: orphanSession, expected: INVALID_CREDENTIAL }),
    ],
    [
      "a session token signed by an attacker's Ed25519 key under identity's kid",
      () => ({
        token: forged({ alg: 'EdDSA', kid: signingKid }, sessionClaims()),
        expected: INVALID_CREDENTIAL,
      }),
    ],
    [
      'a session token with an unknown kid',
      () => ({
        token: forged({ alg: 'EdDSA', kid: 'attacker-kid' }, sessionClaims()),
        expected: INVALID_CREDENTIAL,
      }),
    ],
    [
      'a session token without kid',
      () => ({ token: forged({ alg: 'EdDSA' }, sessionClaims()), expected: INVALID_CREDENTIAL }),
    ],
    [
      'a session token with alg none and no signature',
      () => ({
        token: `tng_mst_${handSignedJwt({ alg: 'none', kid: signingKid, typ: 'tng-mst+jwt' }, sessionClaims(), null)}`,
        expected: INVALID_CREDENTIAL,
      }),
    ],
    [
      "a session token with HS256 keyed with identity's public key (algorithm confusion)",
      () => {
        const input = `${b64({ alg: 'HS256', kid: signingKid, typ: 'tng-mst+jwt' })}.${b64(sessionClaims())}`;
        const mac = createHmac('sha256', Buffer.from(jwksX, 'base64url')).update(input);
        return {
          token: `tng_mst_${input}.${mac.digest('base64url')}`,
          expected: INVALID_CREDENTIAL,
        };
      },
    ],
    [
      "Alice's genuine session token with its claims rewritten to Bob's project",
      () => {
        const [header, , signature] = aliceSession.token.slice(8).split('.');
        const claims = sessionClaims({ pid: bob.projectId, iid: bob.integrationId });
        return {
          token: `tng_mst_${header}.${b64(claims)}.${signature}`,
          expected: INVALID_CREDENTIAL,
        };
      },
    ],
    [
      "Alice's genuine session token with its scopes widened",
      () => {
        const [header, payload, signature] = aliceSession.token.slice(8).split('.');
        const claims = {
          ...(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as object),
          scp: ['mcp:connect', 'keys:write', 'tools:write'],
        };
        return {
          token: `tng_mst_${header}.${b64(claims)}.${signature}`,
          expected: INVALID_CREDENTIAL,
        };
      },
    ],
    [
      'a forged session token that never expires',
      () => ({
        token: forged({ alg: 'EdDSA', kid: signingKid }, sessionClaims({ exp: 4_102_444_800 })),
        expected: INVALID_CREDENTIAL,
      }),
    ],
    [
      'a bare session JWT without the tng_mst_ prefix',
      () => ({ token: aliceSession.token.slice('tng_mst_'.length), expected: INVALID_CREDENTIAL }),
    ],
  ];

  it.each(attacks)('should refuse %s', async (_name, build) => {
    const attack = build();
    if (attack.token !== undefined) guard.present(attack.token);
    const answer = await mcp(platform, {
      token: attack.token,
      method: attack.method ?? 'POST',
      headers: attack.headers ?? {},
      path: attack.path ?? '/mcp',
      body: toolCall('echo', { text: 'attack' }),
    });
    expectRpcRefusal(answer, attack.expected);
    if (attack.expected.wwwAuthenticate !== undefined) {
      expect(answer.headers.get('www-authenticate')).toBe(attack.expected.wwwAuthenticate);
    }
    await guard.end([answer.text]);
  });

  const management: Array<
    [
      string,
      () => {
        token: string;
        method: string;
        path: string;
        body?: unknown;
        status: number;
        detail: string;
      },
    ]
  > = [
    [
      'a member session token on a management route',
      () => ({
        token: aliceSession.token,
        method: 'GET',
        path: '/api/v1/api-keys',
        status: 403,
        detail:
          'Member session tokens can only call tools; use a project API key for this operation',
      }),
    ],
    [
      'the admin token minting a member session',
      () => ({
        token: platform.adminToken,
        method: 'POST',
        path: '/api/v1/mcp/session-token',
        body: { member_external_id: 'admin-made' },
        status: 403,
        detail: 'This operation needs a project API key; the admin token cannot perform it',
      }),
    ],
    [
      'a revoked API key minting a member session',
      () => ({
        token: revokedKey,
        method: 'POST',
        path: '/api/v1/mcp/session-token',
        body: { member_external_id: 'late' },
        status: 401,
        detail: 'Invalid or inactive API key',
      }),
    ],
    [
      'an expired session token on a management route',
      () => ({
        token: expiredSession,
        method: 'GET',
        path: '/api/v1/integrations',
        status: 401,
        detail: 'Member JWT has expired',
      }),
    ],
  ];

  it.each(management)('should refuse %s', async (_name, build) => {
    const attack = build();
    guard.present(attack.token);
    const before = await platform.query<{ count: string }>(
      'SELECT count(*)::text AS count FROM identity.sessions',
    );
    const answer = await platform.call(attack.method, attack.path, {
      token: attack.token,
      ...(attack.body === undefined ? {} : { body: attack.body }),
      ...(attack.method === 'GET' ? {} : { headers: { 'x-project-id': alice.projectId } }),
    });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: attack.status,
      detail: attack.detail,
    });
    expect(
      await platform.query<{ count: string }>(
        'SELECT count(*)::text AS count FROM identity.sessions',
      ),
    ).toEqual(before);
    await guard.end([answer.text]);
  });
});
