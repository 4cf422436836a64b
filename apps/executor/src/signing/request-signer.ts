import { createHmac } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import type { AuthStrategy } from '@tengine/contracts';

import { canonicalRequestString, type CanonicalRequestParts } from '@tengine/sdk';

/** Header carrying the canonical-request signature(s). */
export const CANONICAL_SIGNATURE_HEADER = 'X-Tengine-Signature';

/** The tool's secret cannot be used (not decodable, empty, or not a valid header value). */
export class SecretUnusableError extends Error {
  constructor(reason: string) {
    super(`The tool's auth secret is unusable: ${reason}`);
    this.name = 'SecretUnusableError';
  }
}

/** One HMAC key: the Standard Webhooks signer and the raw key bytes for the canonical signature. */
interface SigningKey {
  readonly webhook: Webhook;
  readonly key: Buffer;
  /** The secret as stored, only to scrub it from echoed text. */
  readonly secret: string;
}

/** How outbound requests of one tool are authenticated, with its secret already parsed. */
export type OutboundAuth =
  | { readonly strategy: 'none' }
  | { readonly strategy: 'bearer'; readonly token: string }
  | { readonly strategy: 'hmac_signature'; readonly keys: readonly SigningKey[] };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEADER_UNSAFE = /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/;

function signingKey(secret: string): SigningKey {
  if (secret.startsWith('whsec_')) {
    const encoded = secret.slice('whsec_'.length);
    if (!BASE64.test(encoded)) throw new SecretUnusableError('whsec_ secret is not base64');
    const key = Buffer.from(encoded, 'base64');
    if (key.length === 0) throw new SecretUnusableError('whsec_ secret is empty');
    return { webhook: new Webhook(secret), key, secret };
  }
  // Not in whsec_ form: the secret's UTF-8 bytes are the key (verify with { format: 'raw' }).
  const key = Buffer.from(secret, 'utf8');
  return { webhook: new Webhook(key, { format: 'raw' }), key, secret };
}

/**
 * Parses a tool's secret for its auth strategy. For `hmac_signature` the secret may hold several
 * space-separated secrets during a rotation (`whsec_new whsec_old`): requests are signed with each,
 * newest first, so receivers accept either until the rotation ends.
 */
export function prepareAuth(strategy: AuthStrategy, secret: string | null): OutboundAuth {
  switch (strategy) {
    case 'none':
      return { strategy: 'none' };
    case 'bearer': {
      const token = secret?.trim() ?? '';
      if (token === '') throw new SecretUnusableError('no secret is stored');
      if (HEADER_UNSAFE.test(token)) throw new SecretUnusableError('not a valid header value');
      return { strategy: 'bearer', token };
    }
    case 'hmac_signature': {
      const secrets = (secret ?? '').split(/\s+/).filter((part) => part !== '');
      if (secrets.length === 0) throw new SecretUnusableError('no secret is stored');
      return { strategy: 'hmac_signature', keys: secrets.map(signingKey) };
    }
  }
}

/** The secrets of an auth, for scrubbing them from anything echoed back (excerpts, bodies). */
export function secretsOf(auth: OutboundAuth): string[] {
  switch (auth.strategy) {
    case 'none':
      return [];
    case 'bearer':
      return [auth.token];
    case 'hmac_signature':
      return auth.keys.flatMap((key) => [key.secret, key.secret.replace(/^whsec_/, '')]);
  }
}

/**
 * The authentication headers of one attempt. `hmac_signature` sends the Standard Webhooks trio
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over `id.timestamp.body`)
 * and `X-Tengine-Signature: v1,<base64>` over the canonical request string, one `v1,…` per key.
 */
export function authHeaders(
  auth: OutboundAuth,
  parts: CanonicalRequestParts,
  signedAt: Date,
): Array<[string, string]> {
  switch (auth.strategy) {
    case 'none':
      return [];
    case 'bearer':
      return [['Authorization', `Bearer ${auth.token}`]];
    case 'hmac_signature': {
      const body =
        typeof parts.body === 'string' ? parts.body : Buffer.from(parts.body).toString('utf8');
      const canonical = canonicalRequestString(parts);
      const webhookSignatures = auth.keys.map((key) => key.webhook.sign(parts.id, signedAt, body));
      const canonicalSignatures = auth.keys.map(
        (key) => `v1,${createHmac('sha256', key.key).update(canonical).digest('base64')}`,
      );
      return [
        ['webhook-id', parts.id],
        ['webhook-timestamp', parts.timestamp],
        ['webhook-signature', webhookSignatures.join(' ')],
        [CANONICAL_SIGNATURE_HEADER, canonicalSignatures.join(' ')],
      ];
    }
  }
}
