import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ZodType } from 'zod';

import {
  DomainError,
  domainErrorFromEnvelope,
  EVENT_CONTRACTS,
  isRpcErrorEnvelope,
  parseRpcReply,
  type EventPayload,
  type EventSubject,
  type RpcReply,
  type RpcRequest,
  type RpcSubject,
} from '@tengine/contracts';
import { Attributes, failSpan, injectTraceHeaders, tracer } from '@tengine/telemetry';

import { rpcClientDuration } from './metrics.js';
import type { MessageHeaders, RpcTransport, TransportHealth } from './transport.js';

/** Per-call options of {@link MessageBus.request}. */
export interface RequestOptions {
  /** Overrides the bus's default reply timeout. */
  readonly timeoutMs?: number;
  /** Extra headers (e.g. `x-request-id`); trace headers are added automatically. */
  readonly headers?: MessageHeaders;
}

/**
 * The typed client every service uses to talk to the others. `request` takes a subject from
 * `@tengine/contracts` and returns that subject's reply type; a remote domain error comes back as a
 * `DomainError` with its code; no responder or no reply in time is `RPC_NO_RESPONDERS` /
 * `RPC_TIMEOUT` promptly, never a hang. Every message carries the caller's trace context.
 */
export class MessageBus {
  constructor(
    private readonly transport: RpcTransport,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Which transport this bus runs on. */
  get kind(): RpcTransport['kind'] {
    return this.transport.kind;
  }

  async request<S extends RpcSubject>(
    subject: S,
    payload: RpcRequest<S>,
    options: RequestOptions = {},
  ): Promise<RpcReply<S>> {
    const reply = await this.requestUnchecked(subject, payload, options);
    try {
      return parseRpcReply(subject, reply);
    } catch (error) {
      throw new DomainError(
        'RPC_BAD_REPLY',
        `The reply to ${subject} does not match its contract.`,
        {
          cause: error,
          details: error instanceof DomainError ? error.details : undefined,
        },
      );
    }
  }

  /**
   * Sends a request on any subject and returns the raw reply, without contract validation. For
   * transport-level tooling and tests; services use {@link MessageBus.request}.
   */
  async requestUnchecked(
    subject: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const span = tracer().startSpan(subject, {
      kind: SpanKind.CLIENT,
      attributes: {
        [Attributes.MESSAGING_SYSTEM]: this.transport.kind,
        [Attributes.MESSAGING_DESTINATION]: subject,
        [Attributes.MESSAGING_OPERATION]: 'send',
      },
    });
    const headers = {
      ...options.headers,
      ...injectTraceHeaders(trace.setSpan(context.active(), span)),
    };
    const startedAt = performance.now();
    let outcome = 'ok';
    try {
      const packet = await this.transport.request(
        subject,
        payload,
        headers,
        options.timeoutMs ?? this.defaultTimeoutMs,
      );
      if (packet.err !== undefined && packet.err !== null) throw remoteError(subject, packet.err);
      return packet.response;
    } catch (error) {
      outcome = error instanceof DomainError ? error.code : 'INTERNAL';
      failSpan(span, error);
      span.setAttribute(Attributes.ERROR_TYPE, outcome);
      throw error;
    } finally {
      rpcClientDuration.observe({ subject, outcome }, (performance.now() - startedAt) / 1000);
      span.end();
    }
  }

  /** Publishes an event to every subscriber, with the caller's trace context. */
  publish<E extends EventSubject>(subject: E, payload: EventPayload<E>): void {
    this.transport.publish(subject, payload, injectTraceHeaders());
  }

  /**
   * Receives every event on `subject` (all replicas get each one). Payloads failing their contract
   * are dropped and reported to `onInvalid`.
   */
  subscribe<E extends EventSubject>(
    subject: E,
    listener: (payload: EventPayload<E>, headers: MessageHeaders) => void,
    onInvalid: (reason: string) => void = () => undefined,
  ): () => void {
    const contracts: Readonly<Record<string, ZodType>> = EVENT_CONTRACTS;
    const schema = contracts[subject];
    if (!schema) throw new Error(`No contract for event ${String(subject)}`);
    return this.transport.subscribe(subject, (payload, headers) => {
      const parsed = schema.safeParse(payload);
      if (parsed.success) listener(parsed.data as EventPayload<E>, headers);
      else onInvalid(`${String(subject)}: ${parsed.error.message}`);
    });
  }

  health(): Promise<TransportHealth> {
    return this.transport.health();
  }

  /** Calls `listener` after every reconnection (events may have been missed during the outage). */
  onReconnect(listener: () => void): () => void {
    return this.transport.onReconnect(listener);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

function remoteError(subject: string, err: unknown): DomainError {
  if (isRpcErrorEnvelope(err)) return domainErrorFromEnvelope(err);
  if (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { message?: unknown }).message === 'string'
  ) {
    return new DomainError('INTERNAL', (err as { message: string }).message, {
      details: { subject },
    });
  }
  if (typeof err === 'string') {
    // Nest's own string errors, e.g. when the remote has no handler for the pattern.
    return new DomainError('RPC_NO_RESPONDERS', `${subject}: ${err}`);
  }
  return new DomainError('INTERNAL', `${subject} failed with an unrecognised error.`);
}
