import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Histogram, register } from 'prom-client';

import { Attributes, tracer } from '@tengine/telemetry';

interface RequestTrace {
  readonly span: Span;
  readonly context: Context;
  readonly startedAt: number;
}

const traces = new WeakMap<FastifyRequest, RequestTrace>();

const httpDuration =
  (register.getSingleMetric('tengine_http_server_duration_seconds') as
    Histogram<string> | undefined) ??
  new Histogram({
    name: 'tengine_http_server_duration_seconds',
    help: 'Duration of HTTP requests served by the gateway, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a client's `x-request-id` when it is sane, otherwise makes a new one. */
export function requestIdFrom(
  header: string | string[] | undefined,
  fallback: () => string,
): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : fallback();
}

/**
 * Traces every HTTP request: a server span continuing the client's `traceparent` when it sends one,
 * made active for the handler (re-entered after body parsing, which loses async context), ended
 * with the status code; plus a duration histogram and the `x-request-id` response header.
 */
export function installHttpTracing(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer().startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [Attributes.SERVICE]: 'gateway',
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0] ?? '/',
          'tengine.request.id': request.id,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    traces.set(request, { span, context: active, startedAt: performance.now() });
    void reply.header('x-request-id', request.id);
    context.with(active, done);
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const state = traces.get(request);
    if (state) context.with(state.context, done);
    else done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const state = traces.get(request);
    if (state) {
      traces.delete(request);
      const status = reply.statusCode;
      state.span.setAttribute('http.response.status_code', status);
      if (status >= 500) state.span.setStatus({ code: 2 });
      state.span.end();
      httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(status),
        },
        (performance.now() - state.startedAt) / 1000,
      );
    }
    done();
  });
}
