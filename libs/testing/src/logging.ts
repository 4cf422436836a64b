import { Writable } from 'node:stream';

import { createLogger, type Logger } from '@tengine/telemetry';

/** A logger whose lines are kept for assertions (e.g. that no secret was logged). */
export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line written so far, raw JSON text. */
  text(): string;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
}

export function captureLogger(
  service: string,
  level: Parameters<typeof createLogger>[0]['level'] = 'debug',
): CapturedLogger {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ service, level, destination });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
