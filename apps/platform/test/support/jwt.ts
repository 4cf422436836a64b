import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';

import jsonwebtoken from 'jsonwebtoken';

/** base64url of a JSON value or bytes. */
export function b64(value: unknown): string {
  const buffer = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value), 'utf8');
  return buffer.toString('base64url');
}

/** Standard assertion claims for a project, overridable (set a claim to undefined to drop it). */
export function assertionClaims(
  projectId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    aud: `tengine:project:${projectId}`,
    sub: 'user-42',
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...overrides,
  };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key];
  return claims;
}

const NODE_HASH: Record<string, string | null> = {
  ES256: 'sha256',
  ES384: 'sha384',
  RS256: 'sha256',
  EdDSA: null,
  Ed25519: null,
};

/**
 * Builds a JWS by hand with node:crypto (independent of jose), so tests can send exactly the
 * header they want: a lying `alg`, an embedded `jwk`, no signature at all.
 */
export function handSignedJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject | string | null,
  signAs: string = String(header['alg']),
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  if (key === null) return `${input}.`;
  const keyObject = typeof key === 'string' ? createPrivateKey(key) : key;
  const isEc = keyObject.asymmetricKeyType === 'ec';
  const signature = sign(NODE_HASH[signAs] ?? null, Buffer.from(input), {
    key: keyObject,
    ...(isEc ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** Signs with the `jsonwebtoken` package: an independent JWT implementation customers use. */
export function jsonwebtokenAssertion(
  privateKey: string,
  algorithm: 'ES256' | 'ES384' | 'RS256',
  kid: string,
  claims: Record<string, unknown>,
): string {
  // jsonwebtoken keeps the iat given in the claims.
  return jsonwebtoken.sign(claims, privateKey, { algorithm, keyid: kid });
}
