import { decodeTime } from 'ulid';

import { newRunId } from './run-ids.js';

describe('newRunId', () => {
  it('should make distinct, time-ordered ULIDs with the current time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5_000 }, () => newRunId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(ids.at(-1)!)).toBeLessThanOrEqual(Date.now());
  });

  it('should spread the random part evenly over the alphabet', () => {
    const counts = new Map<string, number>();
    for (let index = 0; index < 2_000; index += 1) {
      for (const char of newRunId().slice(10)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    // 32,000 characters over 32 letters: about 1,000 each.
    expect(counts.size).toBe(32);
    for (const count of counts.values()) expect(Math.abs(count - 1_000)).toBeLessThan(200);
  });
});
