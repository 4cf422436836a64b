import {
  connect,
  headers as natsHeaders,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';

import { DomainError } from '@tengine/contracts';

import type { EventListener, MessageHeaders, RpcTransport, TransportHealth } from './transport.js';
import { decodePacket, encodeEvent, encodeRequest, type ReplyPacket } from './wire.js';

/** Options of {@link connectNats}. */
export interface NatsConnectOptions {
  readonly url: string;
  /** Connection name shown by the NATS server's monitoring (`tengine-<service>`). */
  readonly name: string;
}

/**
 * Opens a NATS connection that keeps reconnecting forever, so a NATS restart is survived without
 * a process restart. Fails fast at boot with a message that names the URL and the fix.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.url,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 2,
      timeout: 5_000,
      // Otherwise every request captures a stack trace up front, in case it fails: a measurable
      // share of a tool call's CPU. Our errors name the subject instead.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new Error(
      `Cannot connect to NATS at ${redactUrl(options.url)}: ${(error as Error).message}. ` +
        'Start NATS with JetStream (see README) or fix NATS_URL.',
      { cause: error },
    );
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Converts plain headers to NATS headers. */
export function toNatsHeaders(headers: MessageHeaders): MsgHdrs {
  const result = natsHeaders();
  for (const [key, value] of Object.entries(headers)) result.set(key, value);
  return result;
}

/** Converts NATS headers (possibly absent) to plain headers. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers) return result;
  for (const key of headers.keys()) result[key.toLowerCase()] = headers.get(key);
  return result;
}

/** {@link RpcTransport} over a NATS connection, speaking Nest's NATS packet format. */
export class NatsTransport implements RpcTransport {
  readonly kind = 'nats' as const;
  private readonly reconnectListeners = new Set<() => void>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly subjectPrefix = '',
  ) {
    void this.watchStatus();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type !== 'reconnect') continue;
      for (const listener of this.reconnectListeners) {
        try {
          listener();
        } catch {
          // A listener's failure must not stop the others from hearing about the reconnect.
        }
      }
    }
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** The underlying connection (for subsystems such as JetStream). */
  get nats(): NatsConnection {
    return this.connection;
  }

  async request(
    subject: string,
    payload: unknown,
    headers: MessageHeaders,
    timeoutMs: number,
  ): Promise<ReplyPacket> {
    if (this.connection.isClosed()) {
      throw new DomainError(
        'RPC_TRANSPORT_CLOSED',
        `NATS connection is closed; cannot send ${subject}.`,
      );
    }
    try {
      const message = await this.connection.request(
        this.subjectPrefix + subject,
        encodeRequest(subject, payload),
        {
          timeout: timeoutMs,
          headers: toNatsHeaders(headers),
        },
      );
      const packet = decodePacket(message.string());
      if (!packet)
        throw new DomainError('RPC_BAD_REPLY', `Reply to ${subject} is not a valid packet.`);
      return packet;
    } catch (error) {
      throw mapNatsError(subject, timeoutMs, error);
    }
  }

  publish(subject: string, payload: unknown, headers: MessageHeaders): void {
    this.connection.publish(this.subjectPrefix + subject, encodeEvent(subject, payload), {
      headers: toNatsHeaders(headers),
    });
  }

  subscribe(subject: string, listener: EventListener): () => void {
    const subscription = this.connection.subscribe(this.subjectPrefix + subject, {
      callback: (error, message) => {
        if (error) return;
        const packet = decodePacket(message.string());
        if (!packet) return;
        listener(packet.data, fromNatsHeaders(message.headers));
      },
    });
    return () => subscription.unsubscribe();
  }

  async health(): Promise<TransportHealth> {
    if (this.connection.isClosed())
      return { kind: 'nats', connected: false, reason: 'connection closed' };
    // A round trip to the server proves the connection works right now, not just that it once did.
    const probe = this.connection.flush().then(() => true);
    const timeout = new Promise<false>((resolve) => {
      const timer = setTimeout(() => resolve(false), 1_000);
      timer.unref();
    });
    const ok = await Promise.race([probe, timeout]).catch(() => false);
    return ok
      ? { kind: 'nats', connected: true }
      : { kind: 'nats', connected: false, reason: 'NATS server did not answer a ping within 1 s' };
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed())
      await this.connection.drain().catch(() => this.connection.close());
  }
}

function mapNatsError(subject: string, timeoutMs: number, error: unknown): unknown {
  if (error instanceof DomainError) return error;
  const cause = error instanceof RequestError ? (error.cause ?? error) : error;
  if (
    cause instanceof NoRespondersError ||
    (error instanceof RequestError && error.isNoResponders())
  ) {
    return new DomainError('RPC_NO_RESPONDERS', `No service is answering ${subject}.`, {
      cause: error,
    });
  }
  if (cause instanceof TimeoutError) {
    return new DomainError('RPC_TIMEOUT', `No reply to ${subject} within ${timeoutMs} ms.`, {
      cause: error,
    });
  }
  return new DomainError(
    'RPC_TRANSPORT_CLOSED',
    `NATS request ${subject} failed: ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}
