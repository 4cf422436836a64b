import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Principal } from '@tengine/contracts';

/**
 * What an MCP session is bound to: the API key, and for member sessions the member too, so a
 * refreshed session token of the same member keeps the MCP session.
 */
export function principalBinding(principal: Principal): string {
  switch (principal.kind) {
    case 'admin':
      return `admin:${principal.keyId}`;
    case 'api_key':
      return `key:${principal.keyId}`;
    case 'member_session':
      return `member:${principal.keyId}:${principal.memberId}`;
  }
}

function digest(nonce: Buffer, binding: string): Buffer {
  return createHash('sha256').update(nonce).update(binding, 'utf8').digest().subarray(0, 16);
}

/**
 * A new `Mcp-Session-Id`: a random nonce and a digest binding it to the principal. Any replica can
 * check it without shared state or a shared secret; it is never a credential (every request is
 * authenticated), it only lets a session be recognised and refused to anyone else.
 */
export function issueSessionId(principal: Principal): string {
  const nonce = randomBytes(16);
  return `${nonce.toString('base64url')}.${digest(nonce, principalBinding(principal)).toString('base64url')}`;
}

/** True when `sessionId` was issued to this principal. */
export function sessionBelongsTo(sessionId: string, principal: Principal): boolean {
  const [nonceText, digestText, extra] = sessionId.split('.');
  if (!nonceText || !digestText || extra !== undefined || sessionId.length > 128) return false;
  const nonce = Buffer.from(nonceText, 'base64url');
  const presented = Buffer.from(digestText, 'base64url');
  const expected = digest(nonce, principalBinding(principal));
  return (
    nonce.length === 16 &&
    presented.length === expected.length &&
    timingSafeEqual(presented, expected)
  );
}
