import type { ReplyPacket } from './wire.js';

/** Message headers: trace context and request ids. String values only. */
export type MessageHeaders = Readonly<Record<string, string>>;

/** What the readiness probe learns from a transport. */
export interface TransportHealth {
  readonly kind: 'nats' | 'in-process';
  readonly connected: boolean;
  /** Why it is not connected, in words an operator can act on. */
  readonly reason?: string;
}

/** Receives one event published on a subject. */
export type EventListener = (payload: unknown, headers: MessageHeaders) => void;

/**
 * The byte-moving half of the messaging layer: NATS in production, an in-process broker in
 * embedded mode. {@link MessageBus} adds types, validation, tracing and errors on top.
 */
export interface RpcTransport {
  readonly kind: TransportHealth['kind'];
  /**
   * Sends one request and resolves with the decoded reply packet. Rejects with a `DomainError`
   * coded `RPC_NO_RESPONDERS`, `RPC_TIMEOUT` or `RPC_TRANSPORT_CLOSED` when no reply can come.
   */
  request(
    subject: string,
    payload: unknown,
    headers: MessageHeaders,
    timeoutMs: number,
  ): Promise<ReplyPacket>;
  /** Publishes an event to every subscriber (no queue group). */
  publish(subject: string, payload: unknown, headers: MessageHeaders): void;
  /** Subscribes to every event on `subject`; returns the unsubscribe function. */
  subscribe(subject: string, listener: EventListener): () => void;
  health(): Promise<TransportHealth>;
  /**
   * Calls `listener` each time the connection comes back after an outage, when events published
   * meanwhile may have been missed. Returns the unsubscribe function.
   */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}
