import type { UpstreamResponse } from '@tengine/contracts';

import type { ReceivedResponse } from '../upstream/upstream-caller.js';
import { contentTypeOf } from '../upstream/upstream-client.js';

const REDACTED = '[REDACTED]';
const TEXTUAL =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|problem\+json|problem\+xml)\b|application\/[\w.+-]+\+(json|xml)\b)/i;
const JSON_TYPE = /^application\/(json|[\w.+-]+\+json)\b/i;

/**
 * Removes every occurrence of the tool's secrets: an API that echoes its request (debug
 * endpoints, error pages quoting headers) must not hand the secret to the model.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    // Very short "secrets" would shred ordinary text; they are not worth hiding either.
    if (secret.length >= 8) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/** {@link scrubSecrets} on raw bytes, for bodies returned as base64 (the model can decode those). */
function scrubSecretBytes(body: Buffer, secrets: readonly string[]): Buffer {
  let result = body;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    const needle = Buffer.from(secret, 'utf8');
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = result.indexOf(needle); at !== -1; at = result.indexOf(needle, from)) {
      parts.push(result.subarray(from, at), Buffer.from(REDACTED, 'utf8'));
      from = at + needle.length;
    }
    if (parts.length > 0) result = Buffer.concat([...parts, result.subarray(from)]);
  }
  return result;
}

function isTextual(contentType: string | null, body: Buffer): boolean {
  // A NUL byte means binary whatever the label says; PostgreSQL text and jsonb cannot hold U+0000
  // either, so such a body could not be stored in the ledger or the run history as text.
  if (body.includes(0)) return false;
  if (contentType !== null) return TEXTUAL.test(contentType.trim());
  // No content type: text when it decodes as UTF-8 without replacement characters.
  return !body.toString('utf8').includes('\uFFFD');
}

/** Cuts UTF-8 text to at most `maxBytes` bytes without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/** The API's response as returned to the caller: bounded, secret-free, parsed when JSON. */
export function replyBody(
  response: ReceivedResponse,
  maxBytes: number,
  secrets: readonly string[],
): UpstreamResponse {
  const contentType = contentTypeOf(response.headers);
  const base = { status: response.status, contentType, bytes: response.body.length };
  if (!isTextual(contentType, response.body)) {
    const scrubbed = scrubSecretBytes(response.body, secrets);
    const cut = scrubbed.subarray(0, maxBytes);
    return {
      ...base,
      encoding: 'base64',
      body: cut.toString('base64'),
      truncated: cut.length < scrubbed.length,
    };
  }
  const { text, truncated } = truncateUtf8(
    scrubSecrets(response.body.toString('utf8'), secrets),
    maxBytes,
  );
  const result: UpstreamResponse = { ...base, encoding: 'utf8', body: text, truncated };
  // JSON holding an escaped U+0000 stays text: parsed, it could not be stored as jsonb.
  if (
    !truncated &&
    contentType !== null &&
    JSON_TYPE.test(contentType.trim()) &&
    !/\\u0000/i.test(text)
  ) {
    try {
      return { ...result, json: JSON.parse(text) as UpstreamResponse['json'] };
    } catch {
      // Declared JSON but is not: the text alone is returned.
    }
  }
  return result;
}

/** A short excerpt of an error response for the Run error (secret-free). */
export function errorExcerpt(response: UpstreamResponse, maxLength: number): string | undefined {
  if (response.encoding !== 'utf8' || response.body === '') return undefined;
  return response.body.slice(0, maxLength);
}
