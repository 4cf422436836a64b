import { createPublicKey, type KeyObject } from 'node:crypto';

import { ASSERTION_ALGORITHMS, DomainError } from '@tengine/contracts';

/** One of the algorithms customers may sign member assertions with. */
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

/** The JWS `alg` header values each registered algorithm accepts (RFC 8037 and RFC 9864 names for Ed25519). */
export const JWS_ALGORITHMS: Readonly<Record<AssertionAlgorithm, readonly string[]>> = {
  ES256: ['ES256'],
  ES384: ['ES384'],
  Ed25519: ['EdDSA', 'Ed25519'],
  RS256: ['RS256'],
};

const MIN_RSA_BITS = 2048;

export function isAssertionAlgorithm(value: string): value is AssertionAlgorithm {
  return (ASSERTION_ALGORITHMS as readonly string[]).includes(value);
}

function invalidKey(): DomainError {
  return new DomainError('IDENTITY_PUBLIC_KEY_INVALID', 'Invalid public key format');
}

/**
 * Parses a customer's public key and checks it fits the algorithm: an SPKI PEM public key (never a
 * private key or certificate), of the right type and curve, RSA at least 2048 bits.
 */
export function parseAssertionPublicKey(pem: string, algorithm: AssertionAlgorithm): KeyObject {
  const trimmed = pem.trim();
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----$/.test(trimmed))
    throw invalidKey();
  let key: KeyObject;
  try {
    key = createPublicKey({ key: trimmed, format: 'pem' });
  } catch {
    throw invalidKey();
  }
  const details = key.asymmetricKeyDetails ?? {};
  const fits =
    (algorithm === 'ES256' &&
      key.asymmetricKeyType === 'ec' &&
      details.namedCurve === 'prime256v1') ||
    (algorithm === 'ES384' &&
      key.asymmetricKeyType === 'ec' &&
      details.namedCurve === 'secp384r1') ||
    (algorithm === 'Ed25519' && key.asymmetricKeyType === 'ed25519') ||
    (algorithm === 'RS256' &&
      key.asymmetricKeyType === 'rsa' &&
      (details.modulusLength ?? 0) >= MIN_RSA_BITS);
  if (!fits) throw invalidKey();
  return key;
}
