import { API_KEY_PREFIX } from './api-key-format.js';
import { SESSION_TOKEN_PREFIX } from './session-token.js';

/** The longest credential accepted; anything longer is refused before parsing. */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** Which verifier a credential goes to, decided by its prefix alone. */
export type CredentialKind = 'api_key' | 'member_session' | 'admin';

export function credentialKind(credential: string): CredentialKind {
  if (credential.startsWith(API_KEY_PREFIX)) return 'api_key';
  if (credential.startsWith(SESSION_TOKEN_PREFIX)) return 'member_session';
  return 'admin';
}

/**
 * The credential of an HTTP request: `Authorization: Bearer <credential>` or `X-API-Key`.
 * Returns `undefined` when absent, and `null` when present but unusable (other scheme, empty, too long).
 */
export function credentialFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | null | undefined {
  const authorization = headers['authorization'];
  const apiKey = headers['x-api-key'];
  if (authorization === undefined && apiKey === undefined) return undefined;
  let credential: string | undefined;
  if (typeof authorization === 'string') {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    credential = match?.[1];
  } else if (typeof apiKey === 'string') {
    credential = apiKey.trim();
  }
  if (!credential || credential.length > MAX_CREDENTIAL_LENGTH) return null;
  return credential;
}
