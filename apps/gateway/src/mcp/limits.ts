/**
 * Counts concurrent tool calls per key (principal, project) and refuses beyond a bound, so one
 * client cannot occupy every executor.
 */
export class ConcurrencyLimiter {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a slot for `key`; returns the release function, or undefined when the key is at its limit. */
  acquire(key: string): (() => void) | undefined {
    const current = this.inFlight.get(key) ?? 0;
    if (current >= this.limit) return undefined;
    this.inFlight.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.inFlight.get(key) ?? 1) - 1;
      if (now <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, now);
    };
  }
}
