import { EventEmitter } from 'node:events';

import { SESSION_TOKEN_TTL_SECONDS } from '@tengine/auth';
import { Subjects, type CredentialRevokedEvent } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import type { Logger } from '@tengine/telemetry';

/** How long a revoked key id is remembered: longer than any session token minted with it can live. */
const REMEMBER_MS = (SESSION_TOKEN_TTL_SECONDS + 60) * 1000;

/**
 * Revoked API keys and sessions, as this gateway replica knows them: loaded from identity at start
 * and kept current by `evt.identity.credential.revoked.v1`. Listeners (the principal cache, open MCP
 * streams) are told at once.
 */
export class Revocations {
  private readonly apiKeys = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly events = new EventEmitter();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: MessageBus,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to revocation events and loads the recent ones. */
  async start(): Promise<void> {
    this.unsubscribe = this.bus.subscribe(
      Subjects.identity.credentialRevoked,
      (event) => this.apply(event),
      (reason) => this.logger.warn({ reason }, 'dropped an invalid revocation event'),
    );
    await this.reload();
  }

  /** Re-reads recent revocations from identity (at start, and after a NATS reconnect). */
  async reload(): Promise<void> {
    try {
      const recent = await this.bus.request(Subjects.identity.revocationListRecent, {});
      const until = Date.now() + REMEMBER_MS;
      for (const id of recent.apiKeyIds) this.apiKeys.set(id, until);
      for (const id of recent.sessionIds) this.sessions.set(id, until);
    } catch (error) {
      this.logger.warn(
        { err: error },
        'could not load recent revocations from identity; relying on events',
      );
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.events.removeAllListeners();
  }

  apply(event: CredentialRevokedEvent): void {
    const until = Date.now() + REMEMBER_MS;
    if (event.kind === 'api_key') this.apiKeys.set(event.keyId, until);
    else this.sessions.set(event.sessionId, until);
    this.prune();
    this.events.emit('revoked', event);
  }

  isApiKeyRevoked(keyId: string): boolean {
    return this.apiKeys.has(keyId);
  }

  isSessionRevoked(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** Calls `listener` for every revocation this replica learns of. */
  onRevoked(listener: (event: CredentialRevokedEvent) => void): () => void {
    this.events.on('revoked', listener);
    return () => this.events.off('revoked', listener);
  }

  private prune(): void {
    const now = Date.now();
    for (const map of [this.apiKeys, this.sessions]) {
      for (const [id, until] of map) if (until < now) map.delete(id);
    }
  }
}
