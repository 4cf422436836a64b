import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { NatsContext, type BaseRpcContext, type Server } from '@nestjs/microservices';
import type { MsgHdrs } from '@nats-io/transport-node';

import { Attributes, extractTraceContext, tracer } from '@tengine/telemetry';

import { InProcessContext } from './in-process.js';
import { rpcServerDuration } from './metrics.js';
import { fromNatsHeaders } from './nats.transport.js';
import type { MessageHeaders } from './transport.js';

interface HandlingState {
  readonly span: Span;
  readonly startedAt: number;
  readonly subject: string;
}

const handling = new WeakMap<object, HandlingState>();
const failedSpans = new WeakSet<Span>();

/** Marks the active handler span as failed, so metrics count the outcome as an error. */
export function markHandlerFailed(span: Span | undefined): void {
  if (span) failedSpans.add(span);
}

function describe(rpcContext: BaseRpcContext): {
  subject: string;
  headers: MessageHeaders;
  system: string;
} {
  if (rpcContext instanceof NatsContext) {
    return {
      subject: rpcContext.getSubject(),
      headers: fromNatsHeaders(rpcContext.getHeaders() as MsgHdrs | undefined),
      system: 'nats',
    };
  }
  if (rpcContext instanceof InProcessContext) {
    return {
      subject: rpcContext.getSubject(),
      headers: rpcContext.getHeaders(),
      system: 'in-process',
    };
  }
  return { subject: 'unknown', headers: {}, system: 'unknown' };
}

/**
 * Installs the consumer half of trace propagation on a Nest server: every message handler runs
 * inside a server span whose parent is the `traceparent` the sender put in the headers, so one trace
 * follows a request across services. Also records handler durations.
 */
/** How many messages a server is handling right now, for graceful shutdown. */
export interface HandlerActivity {
  readonly inFlight: number;
  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
}

export function installTraceHooks(
  server: Pick<Server, 'setOnProcessingStartHook' | 'setOnProcessingEndHook'>,
  service: string,
  subjectPrefix = '',
): HandlerActivity {
  let inFlight = 0;
  const idleWaiters = new Set<() => void>();
  server.setOnProcessingStartHook((_transportId, rpcContext, done) => {
    inFlight += 1;
    const described = describe(rpcContext as BaseRpcContext);
    const { headers, system } = described;
    const subject = described.subject.startsWith(subjectPrefix)
      ? described.subject.slice(subjectPrefix.length)
      : described.subject;
    const parent = extractTraceContext(headers);
    const span = tracer().startSpan(
      subject,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [Attributes.SERVICE]: service,
          [Attributes.MESSAGING_SYSTEM]: system,
          [Attributes.MESSAGING_DESTINATION]: subject,
          [Attributes.MESSAGING_OPERATION]: 'process',
        },
      },
      parent,
    );
    handling.set(rpcContext as object, { span, startedAt: performance.now(), subject });
    void context.with(trace.setSpan(parent, span), done);
  });
  server.setOnProcessingEndHook((_transportId, rpcContext) => {
    const state = handling.get(rpcContext as object);
    if (!state) return;
    handling.delete(rpcContext as object);
    inFlight -= 1;
    if (inFlight === 0) for (const wake of idleWaiters) wake();
    const outcome = failedSpans.has(state.span) ? 'error' : 'ok';
    rpcServerDuration.observe(
      { service, subject: state.subject, outcome },
      (performance.now() - state.startedAt) / 1000,
    );
    state.span.end();
  });
  return {
    get inFlight() {
      return inFlight;
    },
    whenIdle(timeoutMs: number): Promise<boolean> {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        idleWaiters.add(wake);
      });
    },
  };
}
