import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** Every project API key starts with this, so secret scanners and humans recognise it. */
export const API_KEY_PREFIX = 'tengine_';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_ID_LENGTH = 16;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const BODY = new RegExp(`^[0-9A-Za-z]{${KEY_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH}}$`);

/** `length` characters of base62, uniformly random (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let result = '';
  while (result.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && result.length < length) result += ALPHABET[byte % 62];
    }
  }
  return result;
}

function base62(value: number, width: number): string {
  let text = '';
  let rest = value;
  for (let index = 0; index < width; index += 1) {
    text = ALPHABET[rest % 62] + text;
    rest = Math.floor(rest / 62);
  }
  return text;
}

function checksum(payload: string): string {
  return base62(crc32(payload), CHECKSUM_LENGTH);
}

/** A new API key: the public key id (used for lookup) and the full key (shown once, then hashed). */
export function generateApiKey(): { keyId: string; key: string } {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const payload = keyId + randomBase62(SECRET_LENGTH);
  return { keyId, key: `${API_KEY_PREFIX}${payload}${checksum(payload)}` };
}

/**
 * The key id of a well-formed API key, or `undefined`. A typo or a truncated key fails the
 * checksum here, before any database lookup.
 */
export function parseApiKey(candidate: string): { keyId: string } | undefined {
  if (!candidate.startsWith(API_KEY_PREFIX)) return undefined;
  const body = candidate.slice(API_KEY_PREFIX.length);
  if (!BODY.test(body)) return undefined;
  const payload = body.slice(0, KEY_ID_LENGTH + SECRET_LENGTH);
  if (checksum(payload) !== body.slice(KEY_ID_LENGTH + SECRET_LENGTH)) return undefined;
  return { keyId: payload.slice(0, KEY_ID_LENGTH) };
}
