import { createMemberAssertion, type MemberAssertionOptions } from './member-assertion.js';

/** An error answer from tengine's API, with its status and the reference's `detail`. */
export class TengineApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly code: string | undefined,
  ) {
    super(
      `tengine answered ${status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`,
    );
    this.name = 'TengineApiError';
  }
}

/** A minted member session token. */
export interface SessionToken {
  readonly token: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
  readonly memberId: string;
}

/** Options of {@link SessionTokenClient}. */
export interface SessionTokenClientOptions {
  /** tengine's base URL, e.g. `https://tengine.example.com`. */
  readonly baseUrl: string;
  /** A project API key with the `sessions:mint` scope. Keep it on your server. */
  readonly apiKey: string;
  /** How each assertion is signed (everything but the member). */
  readonly signing: Omit<MemberAssertionOptions, 'memberExternalId' | 'ttlSeconds'>;
  /** Refresh this long before expiry (default 60 s), so a token never expires mid-conversation. */
  readonly refreshMarginSeconds?: number;
  /** Bound on cached members (default 10,000; least recently used go first). */
  readonly maxCachedMembers?: number;
  readonly fetch?: typeof fetch;
}

/**
 * Mints member session tokens on your backend and caches them per member, refreshing shortly
 * before the 15-minute expiry. Concurrent requests for one member share a single mint.
 */
export class SessionTokenClient {
  private readonly cache = new Map<string, SessionToken>();
  private readonly pending = new Map<string, Promise<SessionToken>>();
  private readonly marginMs: number;
  private readonly maxCached: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: SessionTokenClientOptions) {
    this.marginMs = (options.refreshMarginSeconds ?? 60) * 1000;
    this.maxCached = options.maxCachedMembers ?? 10_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** A valid session token for the member: cached, or freshly minted. */
  async getToken(memberExternalId: string): Promise<SessionToken> {
    const cached = this.cache.get(memberExternalId);
    if (cached && cached.expiresAt - this.marginMs > Date.now()) {
      this.cache.delete(memberExternalId);
      this.cache.set(memberExternalId, cached);
      return cached;
    }
    const inflight = this.pending.get(memberExternalId);
    if (inflight) return inflight;
    const minting = this.mint(memberExternalId).finally(() =>
      this.pending.delete(memberExternalId),
    );
    this.pending.set(memberExternalId, minting);
    return minting;
  }

  /** Forgets a member's cached token (e.g. after you revoke it). */
  forget(memberExternalId: string): void {
    this.cache.delete(memberExternalId);
  }

  private async mint(memberExternalId: string): Promise<SessionToken> {
    const assertion = await createMemberAssertion({ ...this.options.signing, memberExternalId });
    const response = await this.fetchImpl(
      new URL('/api/v1/mcp/session-token', this.options.baseUrl),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ member_assertion: assertion }),
      },
    );
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw new TengineApiError(
        response.status,
        body['detail'],
        typeof body['code'] === 'string' ? body['code'] : undefined,
      );
    }
    const token: SessionToken = {
      token: String(body['session_token']),
      expiresAt: Date.parse(String(body['expires_at'])),
      memberId: String(body['member_id']),
    };
    this.cache.set(memberExternalId, token);
    while (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return token;
  }
}
