import type { ExecutorTimings } from '@tengine/contracts';

/**
 * Where a `tools/call` spent its time, sent back as a `Server-Timing` header (W3C Server Timing):
 * `gw-parse` (reading and checking the request), `gw-auth`, `gw-validate` (tool lookup and
 * argument validation), `nats` (the round trip to the executor, its own work excluded), the
 * executor's phases `ex-render`, `ex-sign`, `ex-ledger`, `upstream`, `ex-publish`, and `gw-total`.
 * Durations in milliseconds. Browsers and HTTP tools show it; nothing in it is secret.
 */
export class ServerTiming {
  private readonly entries: Array<readonly [string, number]> = [];

  add(name: string, ms: number): void {
    this.entries.push([name, Math.max(0, ms)]);
  }

  /** The round trip to the executor and, when it reported them, its phases. */
  addExecutor(roundTripMs: number, timings: ExecutorTimings | undefined): void {
    if (timings === undefined) {
      this.add('nats', roundTripMs);
      return;
    }
    this.add('nats', roundTripMs - timings.total);
    this.add('ex-render', timings.render);
    this.add('ex-sign', timings.sign);
    this.add('ex-ledger', timings.ledger);
    this.add('upstream', timings.upstream);
    this.add('ex-publish', timings.publish);
  }

  header(): string {
    return this.entries.map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`).join(', ');
  }
}
