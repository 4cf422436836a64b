import { DomainError } from '@tengine/contracts';

/** Page size when a list request gives none. */
export const DEFAULT_PAGE_SIZE = 50;

/** The `VALIDATION_FAILED` error of a cursor that is not the `next_cursor` of a previous page. */
export function invalidCursor(): DomainError {
  return new DomainError('VALIDATION_FAILED', 'Request is invalid: cursor: unknown cursor', {
    details: { issues: [{ path: 'cursor', message: 'unknown cursor' }] },
  });
}

/** Splits `limit + 1` fetched rows into a page and whether another page follows. */
export function pageOf<T>(rows: readonly T[], limit: number): { items: T[]; more: boolean } {
  return { items: rows.slice(0, limit), more: rows.length > limit };
}
