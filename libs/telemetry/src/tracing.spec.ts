import { context, propagation, trace } from '@opentelemetry/api';

import { injectTraceHeaders, startTelemetry, tracer } from './tracing.js';

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe(startTelemetry.name, () => {
  it('should not record spans when nothing exports them, yet still propagate trace ids', async () => {
    const telemetry = startTelemetry({ serviceName: 'no-exporter' });
    try {
      const span = tracer().startSpan('call');
      expect(span.isRecording()).toBe(false);
      const { traceId, spanId } = span.spanContext();
      expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
      const headers = injectTraceHeaders(trace.setSpan(context.active(), span));
      expect(headers['traceparent']).toBe(`00-${traceId}-${spanId}-00`);
      span.end();
    } finally {
      await telemetry.shutdown();
    }
  });

  it('should record and export spans when an exporter is configured', async () => {
    const telemetry = startTelemetry({ serviceName: 'in-memory', inMemory: true });
    try {
      const span = tracer().startSpan('call');
      expect(span.isRecording()).toBe(true);
      span.end();
      expect(telemetry.memoryExporter?.getFinishedSpans().map((finished) => finished.name)).toEqual(
        ['call'],
      );
    } finally {
      await telemetry.shutdown();
    }
  });
});
