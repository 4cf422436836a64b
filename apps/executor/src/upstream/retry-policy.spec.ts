import {
  backoffDelayMs,
  isIndeterminate,
  isRepeatable,
  nextDelayMs,
  parseRetryAfter,
  RetryBudget,
  shouldRetry,
} from './retry-policy.js';

describe('retry rules', () => {
  it('should treat idempotent methods and idempotentHint tools as repeatable', () => {
    expect(
      ['GET', 'PUT', 'DELETE'].map((method) => isRepeatable(method as 'GET', undefined)),
    ).toEqual([true, true, true]);
    expect(isRepeatable('POST', undefined)).toBe(false);
    expect(isRepeatable('PATCH', false)).toBe(false);
    expect(isRepeatable('POST', true)).toBe(true);
  });

  it('should always retry a request that never left, unless retrying cannot help', () => {
    expect(shouldRetry({ kind: 'not-sent', permanent: false }, false)).toBe(true);
    expect(shouldRetry({ kind: 'not-sent', permanent: true }, true)).toBe(false);
    expect(shouldRetry({ kind: 'timeout', sent: false }, false)).toBe(true);
  });

  it('should retry sent requests only when repeating cannot duplicate an effect', () => {
    expect(shouldRetry({ kind: 'timeout', sent: true }, false)).toBe(false);
    expect(shouldRetry({ kind: 'timeout', sent: true }, true)).toBe(true);
    expect(shouldRetry({ kind: 'broken' }, false)).toBe(false);
    expect(shouldRetry({ kind: 'broken' }, true)).toBe(true);
    for (const status of [408, 429, 502, 503, 504]) {
      expect(shouldRetry({ kind: 'status', status }, true)).toBe(true);
      expect(shouldRetry({ kind: 'status', status }, false)).toBe(false);
    }
    for (const status of [400, 401, 404, 409, 500, 501]) {
      expect(shouldRetry({ kind: 'status', status }, true)).toBe(false);
    }
  });

  it('should call an unanswered write indeterminate, never a read', () => {
    expect(isIndeterminate({ kind: 'timeout', sent: true }, 'POST')).toBe(true);
    expect(isIndeterminate({ kind: 'timeout', sent: true }, 'PUT')).toBe(true);
    expect(isIndeterminate({ kind: 'timeout', sent: true }, 'GET')).toBe(false);
    expect(isIndeterminate({ kind: 'timeout', sent: false }, 'POST')).toBe(false);
    expect(isIndeterminate({ kind: 'broken' }, 'PATCH')).toBe(true);
    expect(isIndeterminate({ kind: 'status', status: 504 }, 'POST')).toBe(true);
    expect(isIndeterminate({ kind: 'status', status: 503 }, 'POST')).toBe(false);
    expect(isIndeterminate({ kind: 'status', status: 500 }, 'POST')).toBe(false);
    expect(isIndeterminate({ kind: 'not-sent', permanent: false }, 'POST')).toBe(false);
  });
});

describe(backoffDelayMs.name, () => {
  const options = { baseMs: 100, maxMs: 2_000 };

  it('should grow exponentially up to the cap, scaled by the jitter', () => {
    expect(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, options, () => 0.999_999)),
    ).toEqual([99, 199, 399, 799, 1599, 1999]);
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(100);
  });

  it('should spread delays over the whole window (full jitter)', () => {
    const delays = Array.from({ length: 2_000 }, () => backoffDelayMs(3, options));
    expect(Math.min(...delays)).toBeLessThan(40);
    expect(Math.max(...delays)).toBeGreaterThan(360);
    expect(delays.every((delay) => delay >= 0 && delay < 400)).toBe(true);
  });
});

describe(parseRetryAfter.name, () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('should read seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now)).toBe(2_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('should wait at least Retry-After, and give up when it exceeds the cap', () => {
    const options = { baseMs: 100, maxMs: 2_000 };
    expect(nextDelayMs(1, 1_500, options, () => 0)).toBe(1_500);
    expect(nextDelayMs(1, undefined, options, () => 0.5)).toBe(50);
    expect(nextDelayMs(1, 5_000, options, () => 0)).toBeUndefined();
  });
});

describe(RetryBudget.name, () => {
  it('should stop retrying an origin that fails everything, after its reserve', () => {
    const budget = new RetryBudget({ ratio: 0.2, maxTokens: 3 });
    let retries = 0;
    for (let call = 0; call < 100; call += 1) {
      budget.deposit('https://storm.example');
      for (let attempt = 0; attempt < 2; attempt += 1)
        if (budget.withdraw('https://storm.example')) retries += 1;
    }
    // 3 in reserve plus 0.2 per call: about 23 retries for 100 calls instead of 200.
    expect(retries).toBeGreaterThanOrEqual(22);
    expect(retries).toBeLessThanOrEqual(24);
    expect(budget.available('https://other.example')).toBe(3);
  });
});
