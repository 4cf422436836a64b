import { trace } from '@opentelemetry/api';
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

import { activeRunId } from './tracing.js';

/** Paths whose values are replaced with `[redacted]` in every log line. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.encrypted_auth_secret',
  '*.member_assertion',
  'databaseUrl',
  '*.databaseUrl',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly service: string;
  readonly level: LevelWithSilent;
  /** Where lines go; stdout by default. Tests pass a stream to inspect what was logged. */
  readonly destination?: DestinationStream;
}

/**
 * A structured JSON logger. Every line carries `service`, and, when inside a span or a Run,
 * `trace_id`, `span_id` and `run_id`. Known secret fields are redacted.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const fields: Record<string, string> = {};
        const spanContext = trace.getActiveSpan()?.spanContext();
        if (spanContext) {
          fields['trace_id'] = spanContext.traceId;
          fields['span_id'] = spanContext.spanId;
        }
        const runId = activeRunId();
        if (runId) fields['run_id'] = runId;
        return fields;
      },
    },
    options.destination,
  );
}

export type { Logger } from 'pino';
