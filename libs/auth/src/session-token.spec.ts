import { generateKeyPairSync } from 'node:crypto';

import { SignJWT } from 'jose';

import {
  SESSION_TOKEN_PREFIX,
  SessionTokenError,
  signSessionToken,
  verifySessionToken,
} from './session-token.js';

const claims = {
  projectId: '0b9e3a4e-9f57-4d6e-9a55-2f0f3f1a6c11',
  integrationId: '7f2c1d3b-5a4e-4c6f-8b9a-1d2e3f4a5b6c',
  memberId: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  memberExternalId: 'user-1',
  scopes: ['mcp:connect'] as const,
  apiKeyId: 'AbCdEfGhIjKlMnOp',
};

describe('session tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const resolve = () => Promise.resolve(publicKey);

  it('should verify what it signs and yield the member principal', async () => {
    const { token, sessionId, expiresAt } = await signSessionToken(claims, privateKey, 'k1');
    expect(token.startsWith(SESSION_TOKEN_PREFIX)).toBe(true);
    await expect(verifySessionToken(token, resolve)).resolves.toEqual({
      kind: 'member_session',
      keyId: claims.apiKeyId,
      sessionId,
      projectId: claims.projectId,
      integrationId: claims.integrationId,
      memberId: claims.memberId,
      memberExternalId: 'user-1',
      scopes: ['mcp:connect'],
      expiresAt,
    });
  });

  it('should call an expired token expired, and anything else invalid', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await signSessionToken(claims, privateKey, 'k1', past);
    await expect(verifySessionToken(expired.token, resolve)).rejects.toMatchObject({
      reason: 'expired',
    });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forged = await signSessionToken(claims, stranger, 'k1');
    await expect(verifySessionToken(forged.token, resolve)).rejects.toMatchObject({
      reason: 'invalid',
    });
    await expect(verifySessionToken('tng_mst_not.a.jwt', resolve)).rejects.toBeInstanceOf(
      SessionTokenError,
    );
    await expect(verifySessionToken('eyJhbGciOi', resolve)).rejects.toMatchObject({
      reason: 'invalid',
    });
  });

  it('should refuse a correctly signed JWT that is not a session token (wrong typ or audience)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertionLike = await new SignJWT({ pid: claims.projectId })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' })
      .setIssuer('tengine:identity')
      .setAudience('tengine:mcp')
      .setSubject(claims.memberId)
      .setJti('x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    await expect(
      verifySessionToken(`${SESSION_TOKEN_PREFIX}${assertionLike}`, resolve),
    ).rejects.toMatchObject({
      reason: 'invalid',
    });
  });
});
