import { randomUUID } from 'node:crypto';

import { importPKCS8, SignJWT, type CryptoKey, type KeyObject } from 'jose';

/** Algorithms tengine accepts for member assertions (`EdDSA` is the JOSE name of Ed25519). */
export type AssertionAlgorithm = 'ES256' | 'ES384' | 'Ed25519' | 'EdDSA' | 'RS256';

/** The longest lifetime tengine accepts for an assertion. */
export const MAX_ASSERTION_TTL_SECONDS = 60;

/** Options of {@link createMemberAssertion}. */
export interface MemberAssertionOptions {
  /** Your private key: a PKCS#8 PEM string, or a key object. Its public half is registered with tengine. */
  readonly privateKey: string | CryptoKey | KeyObject;
  /** The `kid` you registered the public key under. */
  readonly kid: string;
  readonly alg: AssertionAlgorithm;
  /** Your tengine project id; the assertion's audience is `tengine:project:<projectId>`. */
  readonly projectId: string;
  /** Your own stable id for the end user (becomes `sub`). */
  readonly memberExternalId: string;
  /** Lifetime in seconds, at most 60 (default 60). */
  readonly ttlSeconds?: number;
}

/**
 * Signs a member assertion: a short-lived JWT your backend creates to vouch for one end user,
 * exchanged for a member session token at `POST /api/v1/mcp/session-token`. Each assertion has a
 * fresh `jti` and can be used once.
 */
export async function createMemberAssertion(options: MemberAssertionOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? MAX_ASSERTION_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_ASSERTION_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 1 to ${MAX_ASSERTION_TTL_SECONDS}`);
  }
  if (!options.memberExternalId) throw new TypeError('memberExternalId must be a non-empty string');
  const key =
    typeof options.privateKey === 'string'
      ? await importPKCS8(options.privateKey, options.alg)
      : options.privateKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg, kid: options.kid, typ: 'JWT' })
    .setAudience(`tengine:project:${options.projectId}`)
    .setSubject(options.memberExternalId)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(key);
}
