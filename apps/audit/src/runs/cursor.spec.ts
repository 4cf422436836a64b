import type { DomainError } from '@tengine/contracts';

import { decodeCursor, encodeCursor } from './cursor.js';
import { historyBounds, usageRange } from './time-range.js';

describe('run history cursor', () => {
  it('should round-trip a position exactly', () => {
    const cursor = {
      startedAt: '2025-11-22T10:00:00.123456Z',
      runId: '01JAAAAAAAAAAAAAAAAAAAAAAA',
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    'garbage',
    '',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('["2025-11-22T10:00:00Z","x"]').toString('base64url'),
    Buffer.from('["2025-11-22T10:00:00.000000Z","has space"]').toString('base64url'),
  ])('should refuse %p as AUDIT_CURSOR_INVALID', (value) => {
    expect(() => decodeCursor(value)).toThrow(
      expect.objectContaining({ code: 'AUDIT_CURSOR_INVALID' }) as DomainError,
    );
  });
});

describe('usageRange', () => {
  const now = new Date('2025-11-22T12:00:00.000Z');

  it('should default to the 7 days before now', () => {
    expect(usageRange(undefined, undefined, now)).toEqual({
      from: new Date('2025-11-15T12:00:00.000Z'),
      to: now,
    });
  });

  it('should refuse an empty, inverted or too long range', () => {
    for (const [from, to] of [
      ['2025-11-22T00:00:00Z', '2025-11-22T00:00:00Z'],
      ['2025-11-23T00:00:00Z', '2025-11-22T00:00:00Z'],
      ['2025-01-01T00:00:00Z', '2025-11-22T00:00:00Z'],
    ] as const) {
      expect(() => usageRange(from, to, now)).toThrow(
        expect.objectContaining({ code: 'AUDIT_TIME_RANGE_INVALID' }) as DomainError,
      );
    }
  });

  it('should accept a range with offsets', () => {
    expect(usageRange('2025-11-01T00:00:00+02:00', '2025-11-02T00:00:00Z', now).from).toEqual(
      new Date('2025-10-31T22:00:00.000Z'),
    );
  });
});

describe('historyBounds', () => {
  it('should allow open bounds and refuse inverted ones', () => {
    expect(historyBounds(undefined, undefined)).toEqual({ from: null, to: null });
    expect(() => historyBounds('2025-11-22T00:00:00Z', '2025-11-21T00:00:00Z')).toThrow(
      /from must be before to/,
    );
  });
});
