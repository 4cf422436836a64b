import { createHmac, createPrivateKey, generateKeyPairSync } from 'node:crypto';

import { decodeProtectedHeader } from 'jose';

import { signSessionToken } from '@tengine/auth';
import { Subjects } from '@tengine/contracts';
import { Keyring } from '@tengine/secrets';

import { createMemberAssertion } from '@tengine/sdk';

import { postMcp } from '../support/mcp-client.js';
import { assertionClaims, b64, handSignedJwt, jsonwebtokenAssertion } from '../support/jwt.js';
import { opensslKeyPair, type KeyAlgorithm } from '../support/keys.js';
import { createProject, startStack, type ProjectFixture, type Stack } from '../support/stack.js';

const keys = {
  ES256: opensslKeyPair('ES256'),
  ES384: opensslKeyPair('ES384'),
  Ed25519: opensslKeyPair('Ed25519'),
  RS256: opensslKeyPair('RS256'),
};

describe('member session tokens and assertion keys through the gateway', () => {
  let stack: Stack;
  let project: ProjectFixture;
  let other: ProjectFixture;

  beforeAll(async () => {
    stack = await startStack();
    project = await createProject(stack, { environment: 'production' });
    other = await createProject(stack, { environment: 'development' });
    for (const [algorithm, pair] of Object.entries(keys)) {
      const registered = await stack.call('POST', '/api/v1/assertion-keys', {
        token: project.apiKey,
        body: { kid: `kid-${algorithm}`, algorithm, public_key: pair.publicKey },
      });
      expect(registered.status).toBe(201);
    }
  });

  afterAll(async () => {
    await stack?.close();
  });

  const mint = (body: unknown, token = project.apiKey) =>
    stack.call<{ detail: unknown; session_token?: string; member_id?: string }>(
      'POST',
      '/api/v1/mcp/session-token',
      {
        token,
        body,
      },
    );

  const es256 = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    handSignedJwt(
      { alg: 'ES256', kid: 'kid-ES256', typ: 'JWT', ...header },
      assertionClaims(project.projectId, claims),
      keys.ES256.privateKey,
    );

  describe('the reference session-token table', () => {
    it('400 Provide member_assertion or member_external_id', async () => {
      for (const body of [{}, { member_assertion: '' }, { member_external_id: '  ' }]) {
        const response = await mint(body);
        expect(response.status).toBe(400);
        expect(response.body.detail).toBe('Provide member_assertion or member_external_id');
      }
    });

    it('400 Could not resolve member_external_id when sub is missing, empty or not a string', async () => {
      for (const sub of [undefined, '', 42]) {
        const response = await mint({ member_assertion: es256({ sub }) });
        expect(response.status).toBe(400);
        expect(response.body.detail).toBe('Could not resolve member_external_id');
      }
    });

    it('400 API key missing project or integration when the key’s integration is gone', async () => {
      const orphan = await createProject(stack);
      const removed = await stack.call('DELETE', `/api/v1/integrations/${orphan.integrationId}`, {
        token: orphan.apiKey,
      });
      expect(removed.status).toBe(200);
      const response = await mint({ member_external_id: 'user-1' }, orphan.apiKey);
      expect(response.status).toBe(400);
      expect(response.body.detail).toBe('API key missing project or integration');
    });

    it('401 Invalid or inactive API key for unknown, malformed and wrong-checksum keys', async () => {
      const tampered = `${project.apiKey.slice(0, -1)}${project.apiKey.endsWith('A') ? 'B' : 'A'}`;
      for (const token of ['tengine_nope', tampered, `tengine_${'a'.repeat(54)}`]) {
        const response = await mint({ member_external_id: 'x' }, token);
        expect(response.status).toBe(401);
        expect(response.body.detail).toBe('Invalid or inactive API key');
        expect(response.headers.get('www-authenticate')).toContain('Bearer');
      }
    });

    it('401 Invalid member assertion: MISSING_KID', async () => {
      const response = await mint({
        member_assertion: handSignedJwt(
          { alg: 'ES256' },
          assertionClaims(project.projectId),
          keys.ES256.privateKey,
        ),
      });
      expect(response.status).toBe(401);
      expect(response.body.detail).toBe('Invalid member assertion: MISSING_KID');
    });

    it('401 Invalid member assertion: KEY_NOT_FOUND for unknown, foreign and injected kids', async () => {
      await stack.call('POST', '/api/v1/assertion-keys', {
        token: other.apiKey,
        body: { kid: 'other-kid', algorithm: 'ES256', public_key: keys.ES256.publicKey },
      });
      const kids = [
        'nope',
        'other-kid',
        "' OR 1=1 --",
        '../../etc/passwd',
        'kid-ES256\u0000',
        'k'.repeat(500),
        '%kid%',
      ];
      for (const kid of kids) {
        const response = await mint({ member_assertion: es256({}, { kid }) });
        expect(response.status).toBe(401);
        expect(response.body.detail).toBe('Invalid member assertion: KEY_NOT_FOUND');
      }
    });

    it('401 Invalid member assertion: AUD_MISMATCH for another project, a bare id, or no aud', async () => {
      for (const aud of [`tengine:project:${other.projectId}`, project.projectId, undefined]) {
        const response = await mint({ member_assertion: es256({ aud }) });
        expect(response.status).toBe(401);
        expect(response.body.detail).toBe('Invalid member assertion: AUD_MISMATCH');
      }
    });

    it('401 Invalid member assertion: EXPIRED when exp has passed or is missing', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      for (const claims of [{ iat: past, exp: past + 60 }, { exp: undefined }]) {
        const response = await mint({ member_assertion: es256(claims) });
        expect(response.status).toBe(401);
        expect(response.body.detail).toBe('Invalid member assertion: EXPIRED');
      }
    });

    it('401 Invalid member assertion: INVALID_SIGNATURE when signed by another key', async () => {
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const token = handSignedJwt(
        { alg: 'ES256', kid: 'kid-ES256' },
        assertionClaims(project.projectId),
        stranger,
      );
      const response = await mint({ member_assertion: token });
      expect(response.status).toBe(401);
      expect(response.body.detail).toBe('Invalid member assertion: INVALID_SIGNATURE');
    });
  });

  describe('the reference assertion-key table', () => {
    const register = (body: Record<string, unknown>) =>
      stack.call<{ detail: unknown; id?: string }>('POST', '/api/v1/assertion-keys', {
        token: project.apiKey,
        body,
      });

    it('400 Invalid public key format for malformed PEM, wrong key type or curve, private keys and short RSA', async () => {
      const cases: Array<[string, string]> = [
        ['ES256', 'not a pem'],
        ['ES256', keys.ES384.publicKey],
        ['ES384', keys.ES256.publicKey],
        ['Ed25519', keys.ES256.publicKey],
        ['RS256', keys.Ed25519.publicKey],
        ['ES256', keys.ES256.privateKey],
        [
          'RS256',
          generateKeyPairSync('rsa', { modulusLength: 1024 })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString(),
        ],
        ['ES256', keys.ES256.publicKey.replace(/\n[A-Za-z0-9+/]{10}/, '\n')],
      ];
      for (const [algorithm, publicKey] of cases) {
        const response = await register({
          kid: `bad-${algorithm}`,
          algorithm,
          public_key: publicKey,
        });
        expect(response.status).toBe(400);
        expect(response.body.detail).toBe('Invalid public key format');
      }
    });

    it('400 Unsupported algorithm', async () => {
      for (const algorithm of ['HS256', 'none', 'PS256', 'EdDSA ', 'es256']) {
        const response = await register({
          kid: 'k-unsupported',
          algorithm,
          public_key: keys.ES256.publicKey,
        });
        expect(response.status).toBe(400);
        expect(response.body.detail).toBe('Unsupported algorithm');
      }
    });

    it('409 kid already exists for this project, until the old key is deactivated', async () => {
      const first = await register({
        kid: 'rotating',
        algorithm: 'ES256',
        public_key: keys.ES256.publicKey,
      });
      expect(first.status).toBe(201);
      const again = await register({
        kid: 'rotating',
        algorithm: 'ES384',
        public_key: keys.ES384.publicKey,
      });
      expect(again.status).toBe(409);
      expect(again.body.detail).toBe('kid already exists for this project');
      const deactivated = await stack.call(
        'POST',
        `/api/v1/assertion-keys/${String(first.body.id)}/deactivate`,
        {
          token: project.apiKey,
        },
      );
      expect(deactivated.status).toBe(200);
      expect(deactivated.body['active']).toBe(false);
      // A deactivated key no longer verifies assertions.
      const response = await mint({ member_assertion: es256({}, { kid: 'rotating' }) });
      expect(response.body.detail).toBe('Invalid member assertion: KEY_NOT_FOUND');
      expect(
        (await register({ kid: 'rotating', algorithm: 'ES384', public_key: keys.ES384.publicKey }))
          .status,
      ).toBe(201);
    });

    it('should keep each project’s keys to itself', async () => {
      const mine = await stack.call<{ items: Array<{ kid: string }> }>(
        'GET',
        '/api/v1/assertion-keys',
        { token: project.apiKey },
      );
      const theirs = await stack.call<{ items: Array<{ kid: string }> }>(
        'GET',
        '/api/v1/assertion-keys',
        { token: other.apiKey },
      );
      expect(mine.body.items.map((key) => key.kid)).toContain('kid-ES256');
      expect(theirs.body.items.map((key) => key.kid)).not.toContain('kid-ES256');
      const foreign = mine.body.items[0] as unknown as { id: string };
      const probe = await stack.call('POST', `/api/v1/assertion-keys/${foreign.id}/deactivate`, {
        token: other.apiKey,
      });
      expect(probe.status).toBe(404);
    });
  });

  describe('minting', () => {
    it.each(Object.keys(keys) as KeyAlgorithm[])(
      'should mint a session token from an %s assertion made with the SDK and openssl keys',
      async (algorithm) => {
        const assertion = await createMemberAssertion({
          privateKey: keys[algorithm].privateKey,
          kid: `kid-${algorithm}`,
          alg: algorithm,
          projectId: project.projectId,
          memberExternalId: `member-${algorithm}`,
        });
        const response = await mint({ member_assertion: assertion });
        expect(response.status).toBe(200);
        expect(response.body.session_token).toMatch(/^tng_mst_/);
        expect(response.body).toMatchObject({
          token_type: 'Bearer',
          expires_in: 900,
          member_external_id: `member-${algorithm}`,
        });
      },
    );

    it.each(['ES256', 'ES384', 'RS256'] as const)(
      'should accept %s assertions signed with the jsonwebtoken package',
      async (algorithm) => {
        const assertion = jsonwebtokenAssertion(
          keys[algorithm].privateKey,
          algorithm,
          `kid-${algorithm}`,
          assertionClaims(project.projectId),
        );
        expect((await mint({ member_assertion: assertion })).status).toBe(200);
      },
    );

    it('should accept Ed25519 assertions signed with node:crypto under either JOSE name', async () => {
      for (const alg of ['EdDSA', 'Ed25519']) {
        const token = handSignedJwt(
          { alg, kid: 'kid-Ed25519' },
          assertionClaims(project.projectId),
          keys.Ed25519.privateKey,
        );
        expect((await mint({ member_assertion: token })).status).toBe(200);
      }
    });

    it('should give one member one stable member_id across sessions', async () => {
      const first = await mint({ member_assertion: es256({ sub: 'stable-user' }) });
      const second = await mint({ member_assertion: es256({ sub: 'stable-user' }) });
      expect(first.body.member_id).toBeDefined();
      expect(second.body.member_id).toBe(first.body.member_id);
    });

    it('403 member_external_id mode disabled in production; allowed in development', async () => {
      const production = await mint({ member_external_id: 'user-1' });
      expect(production.status).toBe(403);
      expect(production.body.detail).toBe('member_external_id mode disabled in production');
      const development = await mint({ member_external_id: 'user-1' }, other.apiKey);
      expect(development.status).toBe(200);
    });

    it('should publish identity’s keys at /.well-known/jwks.json', async () => {
      const jwks = await stack.call<{
        keys: Array<{ kty: string; crv: string; alg: string; d?: string }>;
      }>('GET', '/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
      expect(jwks.body.keys.every((key) => key.d === undefined)).toBe(true);
    });
  });

  describe('attacks on the assertion', () => {
    const expectRefused = async (assertion: string, detail: string) => {
      const response = await mint({ member_assertion: assertion });
      expect(response.status).toBe(401);
      expect(response.body.detail).toBe(detail);
      expect(JSON.stringify(response.body)).not.toContain(assertion.slice(-20));
    };

    it('should refuse alg none in every spelling', async () => {
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        await expectRefused(
          handSignedJwt({ alg, kid: 'kid-ES256' }, assertionClaims(project.projectId), null),
          'Invalid member assertion: MALFORMED',
        );
      }
      for (const alg of ['none', 'NONE']) {
        const unsigned = `${b64({ alg, kid: 'kid-ES256' })}.${b64(assertionClaims(project.projectId))}.c2ln`;
        await expectRefused(unsigned, 'Invalid member assertion: ALG_NOT_ALLOWED');
      }
    });

    it('should refuse HS256 signed with the public key PEM as the secret (algorithm confusion)', async () => {
      const header = { alg: 'HS256', kid: 'kid-RS256' };
      const input = `${b64(header)}.${b64(assertionClaims(project.projectId))}`;
      const mac = createHmac('sha256', keys.RS256.publicKey).update(input).digest('base64url');
      await expectRefused(`${input}.${mac}`, 'Invalid member assertion: ALG_NOT_ALLOWED');
    });

    it('should refuse an ES256 header on a P-384 signature, and an ES384 header on the ES256 key', async () => {
      const p384 = keys.ES384.privateKey;
      await expectRefused(
        handSignedJwt(
          { alg: 'ES256', kid: 'kid-ES256' },
          assertionClaims(project.projectId),
          p384,
          'ES384',
        ),
        'Invalid member assertion: INVALID_SIGNATURE',
      );
      await expectRefused(
        handSignedJwt({ alg: 'ES384', kid: 'kid-ES256' }, assertionClaims(project.projectId), p384),
        'Invalid member assertion: ALG_NOT_ALLOWED',
      );
    });

    it('should ignore jwk, jku and x5u headers pointing at an attacker key', async () => {
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      await expectRefused(
        handSignedJwt(
          {
            alg: 'ES256',
            kid: 'kid-ES256',
            jwk,
            jku: 'https://evil.example/jwks.json',
            x5u: 'https://evil.example/cert.pem',
          },
          assertionClaims(project.projectId),
          attacker.privateKey,
        ),
        'Invalid member assertion: INVALID_SIGNATURE',
      );
    });

    it('should refuse lifetimes over 60 s, missing jti or iat, and oversized tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(
        es256({ iat: now, exp: now + 61 }),
        'Invalid member assertion: LIFETIME_TOO_LONG',
      );
      await expectRefused(es256({ jti: undefined }), 'Invalid member assertion: MISSING_CLAIM');
      await expectRefused(es256({ iat: undefined }), 'Invalid member assertion: MISSING_CLAIM');
      await expectRefused(
        es256({ iat: now + 600, exp: now + 650 }),
        'Invalid member assertion: NOT_YET_VALID',
      );
      await expectRefused(es256({ pad: 'x'.repeat(9000) }), 'Invalid member assertion: MALFORMED');
    });

    it('should accept an assertion once: a sequential replay is refused', async () => {
      const assertion = es256();
      expect((await mint({ member_assertion: assertion })).status).toBe(200);
      await expectRefused(assertion, 'Invalid member assertion: REPLAYED');
    });

    it('should mint exactly one token from 20 concurrent presentations of one assertion', async () => {
      const assertion = es256();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => mint({ member_assertion: assertion })),
      );
      expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
      const refused = responses.filter((response) => response.status !== 200);
      expect(
        refused.every((response) => response.body.detail === 'Invalid member assertion: REPLAYED'),
      ).toBe(true);
    });

    it('should refuse a session token presented as an assertion, and an assertion presented as a bearer', async () => {
      const session = await mint({ member_assertion: es256() });
      await expectRefused(
        String(session.body.session_token),
        'Invalid member assertion: WRONG_TYPE',
      );
      await expectRefused(
        String(session.body.session_token).slice('tng_mst_'.length),
        'Invalid member assertion: WRONG_TYPE',
      );
      const asBearer = await stack.call('GET', '/api/v1/integrations', { token: es256() });
      expect(asBearer.status).toBe(401);
    });
  });

  describe('scopes and credentials on management calls', () => {
    it('403 naming the missing scope', async () => {
      const limited = await createProject(stack, { scopes: ['mcp:connect'] });
      const response = await stack.call('POST', '/api/v1/assertion-keys', {
        token: limited.apiKey,
        body: { kid: 'x', algorithm: 'ES256', public_key: keys.ES256.publicKey },
      });
      expect(response.status).toBe(403);
      expect(response.body['detail']).toBe('API key is missing the required scope: keys:write');
      const mintResponse = await mint({ member_external_id: 'x' }, limited.apiKey);
      expect(mintResponse.status).toBe(403);
      expect(mintResponse.body.detail).toBe('API key is missing the required scope: sessions:mint');
    });

    it('403 when the admin token tries to mint a session token', async () => {
      const response = await stack.call('POST', '/api/v1/mcp/session-token', {
        token: stack.adminToken,
        headers: { 'x-project-id': project.projectId },
        body: { member_external_id: 'x' },
      });
      expect(response.status).toBe(403);
      expect(response.body['detail']).toBe(
        'This operation needs a project API key; the admin token cannot perform it',
      );
    });

    it('401 with WWW-Authenticate when no credential is sent', async () => {
      const response = await stack.call('GET', '/api/v1/api-keys');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tengine"');
    });

    it('should let a member session authenticate but not manage', async () => {
      const session = await mint({ member_assertion: es256() });
      const response = await stack.call('GET', '/api/v1/integrations', {
        token: String(session.body.session_token),
      });
      expect(response.status).toBe(403);
      expect(response.body['detail']).toMatch(/Member session tokens can only call tools/);
    });

    it('should list keys without secrets and refuse a revoked key at once', async () => {
      const fresh = await createProject(stack);
      const listed = await stack.call<{ items: Array<Record<string, unknown>> }>(
        'GET',
        '/api/v1/api-keys',
        { token: fresh.apiKey },
      );
      expect(listed.status).toBe(200);
      expect(JSON.stringify(listed.body)).not.toContain(fresh.apiKey);
      expect(listed.body.items[0]).toMatchObject({
        id: fresh.apiKeyId,
        last4: fresh.apiKey.slice(-4),
        revoked_at: null,
      });
      const session = await mint({ member_external_id: 'x' }, fresh.apiKey);
      const revoked = await stack.call('DELETE', `/api/v1/api-keys/${fresh.apiKeyId}`, {
        token: stack.adminToken,
        headers: { 'x-project-id': fresh.projectId },
      });
      expect(revoked.status).toBe(200);
      expect(
        (await stack.call('GET', '/api/v1/integrations', { token: fresh.apiKey })).status,
      ).toBe(401);
      const sessionAfter = await stack.call('GET', '/api/v1/integrations', {
        token: String(session.body.session_token),
      });
      expect(sessionAfter.status).toBe(401);
    });
  });

  describe('session token lifetime and key rotation', () => {
    const authenticatedOn = async (token: string): Promise<number> =>
      (await stack.call('GET', '/api/v1/integrations', { token })).status;

    it('401 Member JWT has expired for a genuine but expired session token', async () => {
      const rows = await stack.platform.services
        .find((service) => service.name === 'identity')!
        .dataSource.query<Array<{ kid: string; private_key_sealed: string }>>(
          'SELECT kid, private_key_sealed FROM identity.signing_keys WHERE retired_at IS NULL',
        );
      const active = rows[0]!;
      const pem = Keyring.parse(stack.secretKeys).open(
        active.private_key_sealed,
        `identity/signing-key/${active.kid}`,
      );
      const expired = await signSessionToken(
        {
          projectId: project.projectId,
          integrationId: project.integrationId,
          memberId: '00000000-0000-4000-8000-000000000001',
          memberExternalId: 'old',
          scopes: ['mcp:connect'],
          apiKeyId: project.apiKeyId,
        },
        createPrivateKey(pem),
        active.kid,
        Math.floor(Date.now() / 1000) - 3600,
      );
      const response = await stack.call('GET', '/api/v1/integrations', { token: expired.token });
      expect(response.status).toBe(401);
      expect(response.body['detail']).toBe('Member JWT has expired');
      // The same row on the MCP endpoint, where AI runtimes meet it.
      const mcp = await postMcp(`${stack.url}/mcp`, expired.token, {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
      });
      expect(mcp.status).toBe(401);
      expect(mcp.body).toMatchObject({ error: { message: 'Member JWT has expired' } });
      expect(mcp.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('should keep verifying tokens of the previous signing key after a rotation, and accept new ones', async () => {
      const before = await mint({ member_assertion: es256() });
      const rotated = await stack.platform.gateway.bus.request(
        Subjects.identity.signingKeyRotate,
        {},
      );
      const after = await mint({ member_assertion: es256() });
      expect(after.status).toBe(200);
      const afterHeader = decodeProtectedHeader(
        String(after.body.session_token).slice('tng_mst_'.length),
      );
      expect(afterHeader.kid).toBe(rotated.kid);
      expect(await authenticatedOn(String(before.body.session_token))).toBe(403);
      expect(await authenticatedOn(String(after.body.session_token))).toBe(403);
      const jwks = await stack.call<{ keys: Array<{ kid: string }> }>(
        'GET',
        '/.well-known/jwks.json',
      );
      expect(jwks.body.keys.map((key) => key.kid)).toContain(rotated.kid);
      expect(jwks.body.keys.length).toBeGreaterThanOrEqual(2);
    });
  });
});
