import { DomainError } from '@tengine/contracts';

/** Where a page of run history ended: the last Run's start (microseconds, as PostgreSQL keeps it) and id. */
export interface RunCursor {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exact to the microsecond so no Run is skipped or repeated. */
  readonly startedAt: string;
  readonly runId: string;
}

const STARTED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const RUN_ID = /^[\x21-\x7e]{1,64}$/;

/** An opaque `next_cursor`. */
export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.runId]), 'utf8').toString(
    'base64url',
  );
}

/** Reads a `next_cursor` back; anything this API did not produce is `AUDIT_CURSOR_INVALID`. */
export function decodeCursor(value: string): RunCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'string' &&
    typeof parsed[1] === 'string' &&
    STARTED_AT.test(parsed[0]) &&
    Number.isFinite(Date.parse(parsed[0])) &&
    RUN_ID.test(parsed[1])
  ) {
    return { startedAt: parsed[0], runId: parsed[1] };
  }
  throw new DomainError('AUDIT_CURSOR_INVALID', 'Invalid cursor');
}
