/**
 * SQLSTATE classes meaning "this data can never be stored": data exceptions (22: a value out of
 * range, a NUL character), integrity violations (23) and program limits (54: a row too large).
 * Retrying such an event would fail forever, so it is parked; anything else (connection lost,
 * deadlock, a migration in progress) is worth a retry.
 */
const DATA_ERROR_CLASSES = new Set(['22', '23', '54']);

/** The SQLSTATE of a PostgreSQL error as TypeORM or pg raise it, if any. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const direct = (error as { code?: unknown }).code;
  if (typeof direct === 'string' && /^[0-9A-Z]{5}$/.test(direct)) return direct;
  const driver = (error as { driverError?: { code?: unknown } }).driverError?.code;
  return typeof driver === 'string' && /^[0-9A-Z]{5}$/.test(driver) ? driver : undefined;
}

/** True when the database refused the data itself, not when it was merely unavailable. */
export function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && DATA_ERROR_CLASSES.has(state.slice(0, 2));
}

/** Redelivery delay after a failed write: 0.5 s doubling per delivery, at most 30 s. */
export function retryDelayMs(deliveryCount: number): number {
  const exponent = Math.min(Math.max(deliveryCount, 1) - 1, 10);
  return Math.min(30_000, 500 * 2 ** exponent);
}
