import { randomFillSync } from 'node:crypto';

import { ulid } from 'ulid';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * The ulid package's default generator asks the OS for randomness once per character (16 calls
 * per id). This one draws from a pool refilled 4 KiB at a time: the same CSPRNG, one call per 256
 * ids. A byte maps onto the 32-letter alphabet without bias (256 is a multiple of 32).
 */
function pooledRandom(): number {
  if (offset >= POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const byte = pool[offset] as number;
  offset += 1;
  return byte / 256;
}

/** A new Run id: a ULID (time-ordered, 26 characters of Crockford base32). */
export function newRunId(): string {
  return ulid(undefined, pooledRandom);
}
