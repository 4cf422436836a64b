import { createHash } from 'node:crypto';

// The one implementation of the canonical request: tengine's executor signs with it and
// verifyRequest() checks with it, so the two can never drift apart.

/** Version tag: the first line of the canonical string. */
export const CANONICAL_VERSION = 'tengine-request-v1';

/** What the canonical signature binds (see the README for the exact layout). */
export interface CanonicalRequestParts {
  /** The `webhook-id` header (unique per attempt). */
  readonly id: string;
  /** The `webhook-timestamp` header (Unix seconds). */
  readonly timestamp: string;
  readonly method: string;
  /** Path and query as sent, e.g. `/users/a%2Fb?limit=10`. */
  readonly target: string;
  /** The body bytes as sent (empty for none). */
  readonly body: string | Uint8Array;
  readonly projectId: string;
  readonly integrationId: string;
  /** `X-Tengine-Member-Id`, or empty when the caller is not a member. */
  readonly memberId: string;
  /** `X-Tengine-Member-External-Id` as sent (percent-encoded), or empty. */
  readonly memberExternalId: string;
  readonly idempotencyKey: string;
}

const UNRESERVED_EXTRA = /[!'()*]/g;

function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(
    UNRESERVED_EXTRA,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decodes percent-escapes, leaving a malformed one as it is (never throws). */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The canonical path: each segment percent-decoded and re-encoded strictly, so proxies that
 * re-encode (`%7E` ↔ `~`, lower ↔ upper hex) do not break the signature while `/` inside a segment
 * (`%2F`) stays distinct from a segment boundary.
 */
export function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => strictEncode(safeDecode(segment)))
    .join('/');
}

/**
 * The canonical query: pairs decoded, re-encoded strictly, sorted by name then value (code unit
 * order) and joined with `&`; a pair without `=` counts as an empty value. `+` is a literal plus.
 */
export function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const name = separator === -1 ? pair : pair.slice(0, separator);
      const value = separator === -1 ? '' : pair.slice(separator + 1);
      return [strictEncode(safeDecode(name)), strictEncode(safeDecode(value))] as const;
    })
    .sort(([leftName, leftValue], [rightName, rightValue]) =>
      leftName === rightName ? compare(leftValue, rightValue) : compare(leftName, rightName),
    )
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** Lowercase hex SHA-256 of the body bytes. */
export function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The canonical string the `X-Tengine-Signature` HMAC is computed over (lines joined by `\n`). */
export function canonicalRequestString(parts: CanonicalRequestParts): string {
  const questionMark = parts.target.indexOf('?');
  const path = questionMark === -1 ? parts.target : parts.target.slice(0, questionMark);
  const query = questionMark === -1 ? '' : parts.target.slice(questionMark + 1);
  return [
    CANONICAL_VERSION,
    parts.id,
    parts.timestamp,
    parts.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    bodyDigest(parts.body),
    parts.projectId,
    parts.integrationId,
    parts.memberId,
    parts.memberExternalId,
    parts.idempotencyKey,
  ].join('\n');
}
