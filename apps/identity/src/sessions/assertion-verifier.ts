import { Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';

import { SESSION_TOKEN_PREFIX, SESSION_TOKEN_TYPE } from '@tengine/auth';
import { DomainError } from '@tengine/contracts';

import {
  JWS_ALGORITHMS,
  parseAssertionPublicKey,
} from '../assertion-keys/assertion-key-material.js';
import { AssertionKeysRepository } from '../assertion-keys/assertion-keys.repository.js';
import { invalidAssertion } from '../identity.errors.js';
import { SessionsRepository } from './sessions.repository.js';

/** Assertions larger than this are refused before any parsing. */
export const MAX_ASSERTION_LENGTH = 8192;
/** The longest an assertion may live (`exp − iat`), per the product contract. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 60;
/** Allowed clock difference between the customer's backend and tengine. */
export const CLOCK_TOLERANCE_SECONDS = 30;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function claimFailure(error: errors.JWTClaimValidationFailed): DomainError {
  switch (error.claim) {
    case 'aud':
      return invalidAssertion('AUD_MISMATCH');
    case 'exp':
      return invalidAssertion('EXPIRED');
    case 'iat':
    case 'nbf':
      return invalidAssertion(error.reason === 'missing' ? 'MISSING_CLAIM' : 'NOT_YET_VALID');
    default:
      return invalidAssertion('MISSING_CLAIM');
  }
}

/**
 * Verifies a customer-signed member assertion (RFC 7523 profile, RFC 8725 practices): the key is
 * found only by `kid` among the project's active keys (`jku`, `x5u` and embedded `jwk` are never
 * used), the algorithm must be the one registered for that key, then signature, audience, expiry,
 * lifetime and single use of `jti`. Returns the member's external id (`sub`).
 */
@Injectable()
export class AssertionVerifier {
  constructor(
    private readonly keys: AssertionKeysRepository,
    private readonly sessions: SessionsRepository,
  ) {}

  async verify(projectId: string, assertion: string): Promise<{ memberExternalId: string }> {
    if (assertion.startsWith(SESSION_TOKEN_PREFIX)) throw invalidAssertion('WRONG_TYPE');
    if (assertion.length > MAX_ASSERTION_LENGTH || !COMPACT_JWS.test(assertion))
      throw invalidAssertion('MALFORMED');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw invalidAssertion('MALFORMED');
    }
    if (header.typ === SESSION_TOKEN_TYPE) throw invalidAssertion('WRONG_TYPE');
    if (typeof header.kid !== 'string' || header.kid.length === 0)
      throw invalidAssertion('MISSING_KID');
    // Over-long or control-character kids cannot name a registered key (and must not reach SQL as-is).
    if (header.kid.length > 128 || /[\u0000-\u001f\u007f]/.test(header.kid))
      throw invalidAssertion('KEY_NOT_FOUND');
    const key = await this.keys.findActiveByKid(projectId, header.kid);
    if (!key) throw invalidAssertion('KEY_NOT_FOUND');
    const allowed = JWS_ALGORITHMS[key.algorithm];
    if (typeof header.alg !== 'string' || !allowed.includes(header.alg))
      throw invalidAssertion('ALG_NOT_ALLOWED');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        assertion,
        parseAssertionPublicKey(key.publicKey, key.algorithm),
        {
          algorithms: [...allowed],
          audience: `tengine:project:${projectId}`,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'aud', 'iat'],
        },
      ));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw invalidAssertion('EXPIRED');
      if (error instanceof errors.JWTClaimValidationFailed) throw claimFailure(error);
      if (error instanceof errors.JWSSignatureVerificationFailed)
        throw invalidAssertion('INVALID_SIGNATURE');
      if (error instanceof errors.JOSEAlgNotAllowed) throw invalidAssertion('ALG_NOT_ALLOWED');
      throw invalidAssertion('MALFORMED');
    }
    const { exp, iat, sub, jti } = payload;
    if (typeof exp !== 'number' || typeof iat !== 'number') throw invalidAssertion('MISSING_CLAIM');
    if (iat > Math.floor(Date.now() / 1000) + CLOCK_TOLERANCE_SECONDS)
      throw invalidAssertion('NOT_YET_VALID');
    if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) throw invalidAssertion('LIFETIME_TOO_LONG');
    if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 256) {
      throw new DomainError('IDENTITY_MEMBER_UNRESOLVED', 'Could not resolve member_external_id');
    }
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
      throw invalidAssertion('MISSING_CLAIM');
    const firstUse = await this.sessions.claimAssertion(
      projectId,
      jti,
      new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000),
    );
    if (!firstUse) throw invalidAssertion('REPLAYED');
    return { memberExternalId: sub };
  }
}
