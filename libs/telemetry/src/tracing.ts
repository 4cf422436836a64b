import {
  context,
  createContextKey,
  propagation,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** Resource `service.name`; `tengine-platform` when several services share the process. */
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** OTLP/HTTP collector base URL (e.g. `http://jaeger:4318`); spans are exported when set. */
  readonly otlpEndpoint?: string | undefined;
  /** Keep finished spans in memory (tests). */
  readonly inMemory?: boolean;
}

/** The running telemetry of this process. */
export interface Telemetry {
  /** Set when started with `inMemory`: the finished spans. */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  shutdown(): Promise<void>;
}

/** The platform version, reported by every service and on every span's resource. */
export const TENGINE_VERSION = '0.1.0';

let running: Telemetry | undefined;

/**
 * Starts tracing for this process once: W3C trace context propagation, async context tracking,
 * and the exporters asked for. Later calls return the first instance, so several services started in
 * one process share it.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (running) return running;
  const processors: SpanProcessor[] = [];
  let memoryExporter: InMemorySpanExporter | undefined;
  if (options.inMemory) {
    memoryExporter = new InMemorySpanExporter();
    processors.push(new SimpleSpanProcessor(memoryExporter));
  }
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.0.0',
    }),
    spanProcessors: processors,
    // With nowhere to send spans, recording them is pure cost: spans are then non-recording, yet
    // still carry trace and span ids, so traceparent, log trace ids and Run trace ids are unchanged.
    sampler: processors.length > 0 ? new AlwaysOnSampler() : new AlwaysOffSampler(),
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  running = {
    memoryExporter,
    shutdown: async () => {
      await provider.shutdown();
      running = undefined;
    },
  };
  return running;
}

/** The tracer tengine code creates its spans with. */
export function tracer(): Tracer {
  return trace.getTracer('tengine');
}

/** W3C trace headers (`traceparent`, `tracestate`) for the active context, to put on a message. */
export function injectTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The remote parent context carried by message headers (or the root context when none). */
export function extractTraceContext(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(context.active(), headers);
}

const RUN_ID_KEY = createContextKey('tengine.run_id');

/** A context whose logs and spans belong to the given Run. */
export function withRunId(runId: string, ctx: Context = context.active()): Context {
  return ctx.setValue(RUN_ID_KEY, runId);
}

/** The Run of the active context, if any. */
export function activeRunId(): string | undefined {
  const value = context.active().getValue(RUN_ID_KEY);
  return typeof value === 'string' ? value : undefined;
}

/** Ends `span` as failed, recording the error type without the message (it may carry input). */
export function failSpan(span: Span, error: unknown): void {
  const type = error instanceof Error ? error.name : typeof error;
  span.setAttribute('error.type', type);
  span.setStatus({ code: 2, message: type });
}

/**
 * Starts telemetry from the standard OpenTelemetry variables (`OTEL_SERVICE_NAME`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`). Called by each app's first import, before Nest loads.
 */
export function startTelemetryFromEnv(component?: string): Telemetry {
  return startTelemetry({
    serviceName:
      process.env['OTEL_SERVICE_NAME'] || (component ? `tengine-${component}` : 'tengine'),
    serviceVersion: TENGINE_VERSION,
    otlpEndpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined,
  });
}
