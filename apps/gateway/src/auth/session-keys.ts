import { createPublicKey, type KeyObject } from 'node:crypto';

import { Subjects } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';

/** Minimum time between two JWKS fetches triggered by unknown `kid`s (a flood cannot hammer identity). */
const REFRESH_INTERVAL_MS = 5_000;

/**
 * Identity's session-token public keys, cached in the gateway so session tokens are verified
 * locally. Refreshed on a rotation event, and on an unknown `kid` at most every few seconds.
 */
export class SessionKeys {
  private keys = new Map<string, KeyObject>();
  private lastFetch = 0;
  private inflight: Promise<void> | undefined;

  private readonly unsubscribe: () => void;

  constructor(private readonly bus: MessageBus) {
    // A rotation elsewhere means tokens with a new kid are coming: fetch the new set at once.
    this.unsubscribe = bus.subscribe(
      Subjects.identity.signingKeyRotated,
      () => void this.refresh().catch(() => undefined),
    );
  }

  stop(): void {
    this.unsubscribe();
  }

  /**
   * The key for `kid`, fetching the JWKS once if it is unknown. Callers arriving while a fetch is
   * under way wait for it: the first requests with a token signed by a brand-new key all succeed.
   */
  async get(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.inflight) await this.inflight;
    else if (Date.now() - this.lastFetch >= REFRESH_INTERVAL_MS) await this.refresh();
    return this.keys.get(kid);
  }

  /** Fetches the JWKS now (deduplicated across concurrent callers). */
  refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    this.lastFetch = Date.now();
    const jwks = await this.bus.request(Subjects.identity.jwksGet, {});
    const next = new Map<string, KeyObject>();
    for (const jwk of jwks.keys) {
      try {
        next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      } catch {
        // A key the runtime cannot import is skipped; tokens signed with it fail verification.
      }
    }
    this.keys = next;
  }
}
