import { createHash } from 'node:crypto';

import type { JsonValue } from '../rendering/request-renderer.js';

/** JSON with object keys sorted at every level, so equal values serialise identically. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What makes two calls "the same" for an idempotency key: the tool and its arguments (the caller
 * is already part of the key). The tool version is left out on purpose: a client retrying after the
 * tool was edited is still retrying the same call, and must get the first result, not a 422.
 */
export function callFingerprint(
  toolName: string,
  args: Readonly<Record<string, JsonValue>>,
): string {
  return createHash('sha256')
    .update(`${toolName}\n${canonicalJson(args)}`)
    .digest('hex');
}

/**
 * The `Idempotency-Key` sent upstream: derived from the project, the principal and the client's
 * key, so two members who happen to pick the same key never collide in the customer's API.
 */
export function upstreamIdempotencyKey(
  projectId: string,
  principal: string,
  idempotencyKey: string,
): string {
  const digest = createHash('sha256')
    .update(`${projectId}\n${principal}\n${idempotencyKey}`)
    .digest('base64url');
  return `tng_${digest}`;
}
