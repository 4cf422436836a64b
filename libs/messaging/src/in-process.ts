import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';

import { DomainError } from '@tengine/contracts';

import type { EventListener, MessageHeaders, RpcTransport, TransportHealth } from './transport.js';
import { isPlainSubject, type ReplyPacket } from './wire.js';

type InProcessHandler = (payload: unknown, headers: MessageHeaders) => Promise<ReplyPacket>;

/** A copy of `value` as the other side of a NATS connection would receive it. */
function overTheWire<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * The embedded-mode message broker: request/reply with queue-group semantics (one replica of a
 * subject's handlers answers, round-robin) and event fan-out, inside one process. Payloads are
 * copied through JSON both ways, exactly as they travel over NATS: no object is shared between
 * services, and whatever would not survive the network (a Date, undefined, a class) does not
 * survive here either. (JSON is also cheaper than structuredClone for such payloads.)
 */
export class InProcessBroker {
  private readonly handlers = new Map<string, InProcessHandler[]>();
  private readonly cursor = new Map<string, number>();
  private readonly listeners = new Map<string, Set<EventListener>>();

  /** Registers one responder for `subject`; returns the function that removes it. */
  register(subject: string, handler: InProcessHandler): () => void {
    const list = this.handlers.get(subject) ?? [];
    list.push(handler);
    this.handlers.set(subject, list);
    return () => {
      const current = this.handlers.get(subject) ?? [];
      this.handlers.set(
        subject,
        current.filter((candidate) => candidate !== handler),
      );
    };
  }

  async request(
    subject: string,
    payload: unknown,
    headers: MessageHeaders,
    timeoutMs: number,
  ): Promise<ReplyPacket> {
    const list = this.handlers.get(subject) ?? [];
    if (list.length === 0) {
      throw new DomainError('RPC_NO_RESPONDERS', `No service is answering ${subject}.`);
    }
    const index = (this.cursor.get(subject) ?? 0) % list.length;
    this.cursor.set(subject, index + 1);
    const handler = list[index] as InProcessHandler;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new DomainError('RPC_TIMEOUT', `No reply to ${subject} within ${timeoutMs} ms.`)),
        timeoutMs,
      );
    });
    try {
      const reply = await Promise.race([handler(overTheWire(payload), { ...headers }), timeout]);
      return overTheWire(reply);
    } finally {
      clearTimeout(timer);
    }
  }

  publish(subject: string, payload: unknown, headers: MessageHeaders): void {
    for (const listener of this.listeners.get(subject) ?? []) {
      const copy = overTheWire(payload);
      queueMicrotask(() => listener(copy, { ...headers }));
    }
  }

  subscribe(subject: string, listener: EventListener): () => void {
    const set = this.listeners.get(subject) ?? new Set<EventListener>();
    set.add(listener);
    this.listeners.set(subject, set);
    return () => set.delete(listener);
  }
}

/** {@link RpcTransport} over an {@link InProcessBroker}. */
export class InProcessTransport implements RpcTransport {
  readonly kind = 'in-process' as const;
  private closed = false;

  constructor(readonly broker: InProcessBroker) {}

  request(
    subject: string,
    payload: unknown,
    headers: MessageHeaders,
    timeoutMs: number,
  ): Promise<ReplyPacket> {
    if (this.closed) {
      return Promise.reject(
        new DomainError('RPC_TRANSPORT_CLOSED', `Transport is closed; cannot send ${subject}.`),
      );
    }
    return this.broker.request(subject, payload, headers, timeoutMs);
  }

  publish(subject: string, payload: unknown, headers: MessageHeaders): void {
    if (!this.closed) this.broker.publish(subject, payload, headers);
  }

  subscribe(subject: string, listener: EventListener): () => void {
    return this.broker.subscribe(subject, listener);
  }

  onReconnect(): () => void {
    // The in-process broker never disconnects.
    return () => undefined;
  }

  health(): Promise<TransportHealth> {
    return Promise.resolve(
      this.closed
        ? { kind: 'in-process', connected: false, reason: 'transport closed' }
        : { kind: 'in-process', connected: true },
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The RPC context handlers receive in embedded mode: subject and headers, like `NatsContext`. */
export class InProcessContext extends BaseRpcContext<[string, MessageHeaders]> {
  getSubject(): string {
    return this.args[0];
  }

  getHeaders(): MessageHeaders {
    return this.args[1];
  }
}

/** Identifies the in-process transport to Nest and to the processing hooks. */
export const IN_PROCESS_TRANSPORT = Symbol('tengine.in-process');

/**
 * A Nest custom transport that serves a module's `@MessagePattern` and `@EventPattern` handlers
 * from an {@link InProcessBroker}: the same handlers, pipes, filters and hooks as over NATS.
 */
export class InProcessServer extends Server implements CustomTransportStrategy {
  private readonly disposers: Array<() => void> = [];

  constructor(private readonly broker: InProcessBroker) {
    super();
    this.transportId = IN_PROCESS_TRANSPORT;
  }

  listen(callback: (error?: unknown) => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) {
        this.disposers.push(
          this.broker.subscribe(pattern, (data, headers) => {
            void this.handleEvent(
              pattern,
              { pattern, data },
              new InProcessContext([pattern, headers]),
            );
          }),
        );
      } else {
        this.disposers.push(
          this.broker.register(pattern, (data, headers) => this.dispatch(pattern, data, headers)),
        );
      }
    }
    this._status$.next('connected');
    callback();
  }

  close(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  /** Our patterns are plain subjects: Nest's JSON.parse attempt would throw on every message. */
  protected override getRouteFromPattern(pattern: string): string {
    return isPlainSubject(pattern)
      ? this.normalizePattern(pattern)
      : super.getRouteFromPattern(pattern);
  }

  on(): void {
    // No connection events: the broker lives as long as the process.
  }

  unwrap<T>(): T {
    return this.broker as T;
  }

  private dispatch(subject: string, data: unknown, headers: MessageHeaders): Promise<ReplyPacket> {
    const handler = this.getHandlerByPattern(subject);
    if (!handler) {
      return Promise.reject(
        new DomainError('RPC_NO_RESPONDERS', `No service is answering ${subject}.`),
      );
    }
    const context = new InProcessContext([subject, headers]);
    return new Promise<ReplyPacket>((resolve) => {
      let reply: ReplyPacket = {};
      this.handleRequest(
        context,
        async () => this.transformToObservable(await handler(data, context)),
        (packet) => {
          if (packet.err !== undefined) reply = { err: packet.err };
          else if (packet.response !== undefined) reply = { response: packet.response };
          if (packet.isDisposed) resolve(reply);
        },
      );
    });
  }
}
