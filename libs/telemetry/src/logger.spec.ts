import { context, trace } from '@opentelemetry/api';
import { Writable } from 'node:stream';

import { createLogger } from './logger.js';
import { startTelemetry, tracer, withRunId } from './tracing.js';

function capture(): { lines: () => Array<Record<string, unknown>>; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    destination,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe(createLogger.name, () => {
  beforeAll(() => startTelemetry({ serviceName: 'test', inMemory: true }));

  it('should redact credentials in known fields', () => {
    const sink = capture();
    const logger = createLogger({
      service: 'gateway',
      level: 'info',
      destination: sink.destination,
    });
    logger.info(
      {
        headers: { authorization: 'Bearer tengine_secret', 'x-api-key': 'tengine_other' },
        body: { member_assertion: 'eyJ.jwt' },
      },
      'request',
    );
    const text = JSON.stringify(sink.lines());
    expect(text).not.toContain('tengine_secret');
    expect(text).not.toContain('tengine_other');
    expect(text).not.toContain('eyJ.jwt');
    expect(text).toContain('[redacted]');
  });

  it('should stamp trace_id, span_id and run_id inside a span and a Run', () => {
    const sink = capture();
    const logger = createLogger({
      service: 'executor',
      level: 'info',
      destination: sink.destination,
    });
    const span = tracer().startSpan('work');
    context.with(withRunId('01RUN', trace.setSpan(context.active(), span)), () =>
      logger.info('inside'),
    );
    span.end();
    logger.info('outside');
    const [inside, outside] = sink.lines();
    expect(inside).toMatchObject({
      service: 'executor',
      trace_id: span.spanContext().traceId,
      run_id: '01RUN',
    });
    expect(inside?.['span_id']).toBe(span.spanContext().spanId);
    expect(outside?.['trace_id']).toBeUndefined();
    expect(outside?.['run_id']).toBeUndefined();
  });
});
