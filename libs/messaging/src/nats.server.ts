import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ServerNats } from '@nestjs/microservices';

import { isPlainSubject } from './wire.js';

/**
 * Nest's NATS server, adapted: it serves on a connection the service already owns (one connection
 * per service, shared with its client), prefixes subjects with the optional namespace, and puts
 * every handler in the service's queue group so replicas share the load.
 */
export class TengineNatsServer extends ServerNats {
  private readonly ownSubscriptions: Subscription[] = [];

  constructor(
    private readonly connection: NatsConnection,
    private readonly queueGroup: string,
    private readonly subjectPrefix = '',
  ) {
    super({ queue: queueGroup });
  }

  override createNatsClient(): Promise<NatsConnection> {
    return Promise.resolve(this.connection);
  }

  override bindEvents(client: NatsConnection): void {
    for (const pattern of this.messageHandlers.keys()) {
      const onMessage = this.getMessageHandler(pattern) as (
        error: Error | null,
        message: unknown,
      ) => void;
      this.ownSubscriptions.push(
        client.subscribe(this.subjectPrefix + pattern, {
          queue: this.queueGroup,
          callback: (error, message) => onMessage.call(this, error, message),
        }),
      );
    }
  }

  /** Our patterns are plain subjects: Nest's JSON.parse attempt would throw on every message. */
  protected override getRouteFromPattern(pattern: string): string {
    return isPlainSubject(pattern)
      ? this.normalizePattern(pattern)
      : super.getRouteFromPattern(pattern);
  }

  /** Stops taking new messages; the connection is closed by its owner. */
  override async close(): Promise<void> {
    await Promise.all(
      this.ownSubscriptions
        .splice(0)
        .map((subscription) => subscription.drain().catch(() => undefined)),
    );
  }
}
