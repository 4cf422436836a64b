import { AUDIT_DEFAULT_RANGE_DAYS, AUDIT_MAX_RANGE_DAYS, DomainError } from '@tengine/contracts';

const DAY_MS = 86_400_000;

/** A half-open time range `[from, to)`. */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/**
 * The usage range a request asks for: `to` defaults to now, `from` to 7 days before `to`; `from`
 * must come first and the range may span at most 93 days, so one request reads a bounded slice.
 */
export function usageRange(from: string | undefined, to: string | undefined, now: Date): TimeRange {
  const end = to === undefined ? now : new Date(to);
  const start =
    from === undefined
      ? new Date(end.getTime() - AUDIT_DEFAULT_RANGE_DAYS * DAY_MS)
      : new Date(from);
  if (start.getTime() >= end.getTime()) {
    throw new DomainError('AUDIT_TIME_RANGE_INVALID', 'from must be before to', {
      details: { from: start.toISOString(), to: end.toISOString() },
    });
  }
  if (end.getTime() - start.getTime() > AUDIT_MAX_RANGE_DAYS * DAY_MS) {
    throw new DomainError(
      'AUDIT_TIME_RANGE_INVALID',
      `The time range may span at most ${AUDIT_MAX_RANGE_DAYS} days`,
      { details: { from: start.toISOString(), to: end.toISOString() } },
    );
  }
  return { from: start, to: end };
}

/** Checks the optional bounds of a history query: when both are given, `from` comes first. */
export function historyBounds(
  from: string | undefined,
  to: string | undefined,
): { from: Date | null; to: Date | null } {
  const start = from === undefined ? null : new Date(from);
  const end = to === undefined ? null : new Date(to);
  if (start && end && start.getTime() >= end.getTime()) {
    throw new DomainError('AUDIT_TIME_RANGE_INVALID', 'from must be before to', {
      details: { from: start.toISOString(), to: end.toISOString() },
    });
  }
  return { from: start, to: end };
}
