import { randomUUID } from 'node:crypto';

import {
  errors,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWTHeaderParameters,
  type KeyObject,
} from 'jose';
import { z } from 'zod';

import { ScopeSchema, type Principal, type Scope } from '@tengine/contracts';

/** Every member session token starts with this; the rest is a compact JWT. */
export const SESSION_TOKEN_PREFIX = 'tng_mst_';
/** `typ` of session tokens, distinct from any customer assertion. */
export const SESSION_TOKEN_TYPE = 'tng-mst+jwt';
export const SESSION_TOKEN_ISSUER = 'tengine:identity';
export const SESSION_TOKEN_AUDIENCE = 'tengine:mcp';
/** 15 minutes. */
export const SESSION_TOKEN_TTL_SECONDS = 900;
export const SESSION_TOKEN_ALGORITHM = 'EdDSA';

/** What a session token says about its holder. */
export interface SessionClaims {
  readonly projectId: string;
  readonly integrationId: string;
  readonly memberId: string;
  readonly memberExternalId: string;
  readonly scopes: readonly Scope[];
  /** The API key it was minted with. */
  readonly apiKeyId: string;
}

const ClaimsSchema = z.object({
  jti: z.string().min(1),
  sub: z.string().uuid(),
  exp: z.number().int(),
  pid: z.string().uuid(),
  iid: z.string().uuid(),
  mxid: z.string(),
  akid: z.string(),
  scp: z.array(ScopeSchema),
});

/** Why a session token was refused. `expired` maps to the reference's "Member JWT has expired". */
export class SessionTokenError extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'Member JWT has expired' : 'Invalid member session token');
    this.name = 'SessionTokenError';
  }
}

/** Signs a session token; returns it with its id and expiry (unix seconds). */
export async function signSessionToken(
  claims: SessionClaims,
  signingKey: CryptoKey | KeyObject,
  kid: string,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; sessionId: string; expiresAt: number }> {
  const sessionId = randomUUID();
  const expiresAt = now + SESSION_TOKEN_TTL_SECONDS;
  const jwt = await new SignJWT({
    pid: claims.projectId,
    iid: claims.integrationId,
    mxid: claims.memberExternalId,
    akid: claims.apiKeyId,
    scp: [...claims.scopes],
  })
    .setProtectedHeader({ alg: SESSION_TOKEN_ALGORITHM, kid, typ: SESSION_TOKEN_TYPE })
    .setIssuer(SESSION_TOKEN_ISSUER)
    .setAudience(SESSION_TOKEN_AUDIENCE)
    .setSubject(claims.memberId)
    .setJti(sessionId)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(signingKey);
  return { token: `${SESSION_TOKEN_PREFIX}${jwt}`, sessionId, expiresAt };
}

/** Finds the public key for a session token's `kid` (from identity's JWKS). */
export type SessionKeyResolver = (header: JWTHeaderParameters) => Promise<CryptoKey | KeyObject>;

/**
 * Verifies a session token against identity's public keys: signature (EdDSA only), `typ`, issuer,
 * audience, expiry; returns the principal it stands for.
 */
export async function verifySessionToken(
  token: string,
  resolveKey: SessionKeyResolver,
): Promise<Extract<Principal, { kind: 'member_session' }>> {
  if (!token.startsWith(SESSION_TOKEN_PREFIX)) throw new SessionTokenError('invalid');
  try {
    const { payload } = await jwtVerify(token.slice(SESSION_TOKEN_PREFIX.length), resolveKey, {
      algorithms: [SESSION_TOKEN_ALGORITHM],
      issuer: SESSION_TOKEN_ISSUER,
      audience: SESSION_TOKEN_AUDIENCE,
      typ: SESSION_TOKEN_TYPE,
      requiredClaims: ['jti', 'sub', 'exp', 'iat'],
    });
    const claims = ClaimsSchema.parse(payload);
    return {
      kind: 'member_session',
      keyId: claims.akid,
      sessionId: claims.jti,
      projectId: claims.pid,
      integrationId: claims.iid,
      memberId: claims.sub,
      memberExternalId: claims.mxid,
      scopes: claims.scp,
      expiresAt: claims.exp,
    };
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new SessionTokenError('expired');
    throw new SessionTokenError('invalid');
  }
}
