import { TEST_NATS_URL } from '@tengine/testing';

import type { AttackPlatform } from './platform.js';
import type { RecordingUpstream } from './upstream.js';

/** A stack trace line (`at fn (file.js:1:2)`) or a Node.js error dump. */
const STACK_TRACE =
  /\n\s+at [^\n]*(\(|\/)[^\n]*:\d+:\d+|\bat (async )?[\w.<>]+ \((file:\/\/|\/|node:)/;

/**
 * Everything that must never reach an attacker or a log: the suite's secrets, and in response
 * bodies also stack traces and where the platform's infrastructure lives.
 */
export function leaksIn(
  text: string,
  platform: AttackPlatform,
  extra: Iterable<string> = [],
): string[] {
  const problems: string[] = [];
  for (const secret of [...platform.secrets, ...extra]) {
    if (secret.length >= 8 && text.includes(secret)) {
      problems.push(`contains the secret ${secret.slice(0, 6)}…`);
    }
  }
  return problems;
}

function internalsIn(text: string, platform: AttackPlatform): string[] {
  const problems: string[] = [];
  if (STACK_TRACE.test(text)) problems.push('contains a stack trace');
  const internals = [
    platform.database.name,
    platform.subjectPrefix,
    TEST_NATS_URL,
    new URL(TEST_NATS_URL).host,
    'postgres://',
    '127.0.0.1:5432',
    process.cwd(),
    'node_modules',
  ];
  for (const internal of internals) {
    if (text.includes(internal)) problems.push(`names the internal ${internal}`);
  }
  return problems;
}

/** Parsed log lines of a piece of the platform's output (the banner and other text skipped). */
function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** What one attack may leave behind upstream: by default nothing at all. */
export interface UpstreamExpectation {
  readonly upstream: RecordingUpstream;
  /** Requests the upstream may have received (0 unless the attack is the upstream's own behaviour). */
  readonly requests?: number;
}

/**
 * Brackets one attack: `begin` marks the logs and clears the upstreams; `end` asserts that the
 * upstreams saw exactly what was allowed, that no response body leaks a secret, a stack trace or
 * an internal address, and that the logs written meanwhile hold no secret and no error.
 */
export class AttackGuard {
  private logOffset = 0;
  private readonly presented = new Set<string>();

  constructor(
    private readonly platform: AttackPlatform,
    private readonly upstreams: readonly RecordingUpstream[],
  ) {}

  begin(): void {
    this.logOffset = this.platform.output().length;
    this.presented.clear();
    for (const upstream of this.upstreams) upstream.reset();
  }

  /** A credential or token the attacker sent: it must not be echoed back or logged either. */
  present(...values: string[]): void {
    for (const value of values) this.presented.add(value);
  }

  async end(
    bodies: readonly string[],
    expectations: readonly UpstreamExpectation[] = [],
  ): Promise<void> {
    for (const upstream of this.upstreams) {
      const expected = expectations.find((entry) => entry.upstream === upstream)?.requests ?? 0;
      expect({ upstream: upstream.origin, requests: upstream.requests.length }).toEqual({
        upstream: upstream.origin,
        requests: expected,
      });
      if (expected === 0) {
        expect({ upstream: upstream.origin, connections: upstream.connections() }).toEqual({
          upstream: upstream.origin,
          connections: 0,
        });
      }
    }
    for (const body of bodies) {
      expect([
        ...leaksIn(body, this.platform, this.presented),
        ...internalsIn(body, this.platform),
      ]).toEqual([]);
    }
    // Log lines are written before the answer; give the pipe a moment to deliver them.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const written = this.platform.output().slice(this.logOffset);
    expect(leaksIn(written, this.platform, this.presented)).toEqual([]);
    const errors = logLines(written).filter((line) => Number(line['level']) >= 50);
    expect(errors.map((line) => `${String(line['service'])}: ${String(line['msg'])}`)).toEqual([]);
  }

  /** The final sweep over everything the platform wrote during the file. */
  sweep(): void {
    const problems = leaksIn(this.platform.output(), this.platform);
    if (problems.length > 0) {
      throw new Error(`The platform's logs leak: ${problems.join('; ')}`);
    }
  }
}
