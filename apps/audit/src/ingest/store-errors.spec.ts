import { isDataError, retryDelayMs, sqlState } from './store-errors.js';

describe('store error classification', () => {
  it('should treat data and integrity errors as unstorable data', () => {
    expect(isDataError({ code: '22P05' })).toBe(true);
    expect(isDataError({ code: '22003' })).toBe(true);
    expect(isDataError({ driverError: { code: '23514' } })).toBe(true);
    expect(isDataError({ code: '54000' })).toBe(true);
  });

  it('should treat connection loss, deadlocks and missing tables as transient', () => {
    for (const code of ['08006', '40P01', '57P01', '42P01'])
      expect(isDataError({ code })).toBe(false);
    expect(isDataError(new Error('Connection terminated'))).toBe(false);
    expect(sqlState({ code: 'ECONNREFUSED' })).toBeUndefined();
  });

  it('should back off exponentially up to 30 s', () => {
    expect([1, 2, 3, 7, 50].map(retryDelayMs)).toEqual([500, 1_000, 2_000, 30_000, 30_000]);
  });
});
