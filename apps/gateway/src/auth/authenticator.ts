import { createHash } from 'node:crypto';

import { LRUCache } from 'lru-cache';

import { credentialKind, parseApiKey, SessionTokenError, verifySessionToken } from '@tengine/auth';
import {
  DomainError,
  Subjects,
  type CredentialRevokedEvent,
  type Principal,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';

import type { Revocations } from './revocations.js';
import type { SessionKeys } from './session-keys.js';

/** How long a positive answer from identity is reused without asking again (revocation events cut it short). */
const CACHE_TTL_MS = 30_000;

function fingerprint(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('base64url');
}

function invalidApiKey(): DomainError {
  return new DomainError('IDENTITY_INVALID_API_KEY', 'Invalid or inactive API key');
}

/**
 * Turns a presented credential into a principal on the hot path: session tokens are verified
 * locally against identity's published keys, API keys and admin tokens are asked of identity once
 * and cached briefly; revocations remove cached entries at once.
 */
export class Authenticator {
  private readonly cache = new LRUCache<string, Principal>({ max: 50_000, ttl: CACHE_TTL_MS });
  private readonly unsubscribe: () => void;

  constructor(
    private readonly bus: MessageBus,
    private readonly keys: SessionKeys,
    private readonly revocations: Revocations,
  ) {
    this.unsubscribe = revocations.onRevoked((event) => this.forget(event));
  }

  async authenticate(credential: string): Promise<Principal> {
    const kind = credentialKind(credential);
    if (kind === 'member_session') return this.verifySession(credential);
    // A mistyped or truncated key fails its checksum here, without a round trip to identity.
    if (kind === 'api_key' && !parseApiKey(credential)) throw invalidApiKey();
    const cacheKey = fingerprint(credential);
    const cached = this.cache.get(cacheKey);
    if (cached && !this.isRevoked(cached)) return cached;
    const principal = await this.bus.request(Subjects.identity.credentialVerify, { credential });
    if (this.isRevoked(principal)) throw invalidApiKey();
    this.cache.set(cacheKey, principal);
    return principal;
  }

  close(): void {
    this.unsubscribe();
    this.cache.clear();
  }

  /** Drops every cached principal (e.g. after a NATS outage, when events may have been missed). */
  clear(): void {
    this.cache.clear();
  }

  private isRevoked(principal: Principal): boolean {
    if (principal.kind === 'admin') return false;
    if (this.revocations.isApiKeyRevoked(principal.keyId)) return true;
    return (
      principal.kind === 'member_session' && this.revocations.isSessionRevoked(principal.sessionId)
    );
  }

  private async verifySession(token: string): Promise<Principal> {
    let principal;
    try {
      principal = await verifySessionToken(token, async (header) => {
        const key = header.kid ? await this.keys.get(header.kid) : undefined;
        if (!key) throw new SessionTokenError('invalid');
        return key;
      });
    } catch (error) {
      if (error instanceof SessionTokenError && error.reason === 'expired') {
        throw new DomainError('IDENTITY_SESSION_EXPIRED', 'Member JWT has expired');
      }
      throw new DomainError('IDENTITY_INVALID_CREDENTIAL', 'Invalid or inactive credential');
    }
    if (this.isRevoked(principal))
      throw new DomainError('IDENTITY_INVALID_CREDENTIAL', 'Invalid or inactive credential');
    return principal;
  }

  private forget(event: CredentialRevokedEvent): void {
    for (const [key, principal] of this.cache.entries()) {
      if (principal.kind === 'admin') continue;
      const matches =
        event.kind === 'api_key'
          ? principal.keyId === event.keyId
          : principal.kind === 'member_session' && principal.sessionId === event.sessionId;
      if (matches) this.cache.delete(key);
    }
  }
}
