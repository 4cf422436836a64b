import type { HttpMethod } from '@tengine/contracts';

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);
/** Methods that change nothing: a lost answer to them is simply a failure, never indeterminate. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Statuses that say "try again": the request was not (fully) processed or a proxy failed. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
/** Gateway statuses after which the origin may still have processed the request. */
const AMBIGUOUS_STATUSES: ReadonlySet<number> = new Set([502, 504]);

/** True when repeating the call cannot add an effect: idempotent method or `idempotentHint`. */
export function isRepeatable(method: HttpMethod, idempotentHint: boolean | undefined): boolean {
  return IDEMPOTENT_METHODS.has(method) || idempotentHint === true;
}

/** True for methods that change nothing on the server. */
export function isSafeMethod(method: HttpMethod): boolean {
  return SAFE_METHODS.has(method);
}

/** Why an attempt did not produce a usable response. */
export type AttemptFailure =
  /** Nothing was sent (DNS, refused, TLS handshake…); `permanent` when retrying cannot help. */
  | { readonly kind: 'not-sent'; readonly permanent: boolean }
  /** No answer within the deadline; `sent` when the request may have reached the server. */
  | { readonly kind: 'timeout'; readonly sent: boolean }
  /** The connection broke after the request was handed to it. */
  | { readonly kind: 'broken' }
  /** The server answered with a status. */
  | { readonly kind: 'status'; readonly status: number };

/**
 * Whether a failed attempt may be repeated. Requests that never left are always safe to repeat;
 * anything that may have reached the server only when the call is repeatable, so a write is never
 * duplicated by tengine.
 */
export function shouldRetry(failure: AttemptFailure, repeatable: boolean): boolean {
  switch (failure.kind) {
    case 'not-sent':
      return !failure.permanent;
    case 'timeout':
      return !failure.sent || repeatable;
    case 'broken':
      return repeatable;
    case 'status':
      return repeatable && RETRYABLE_STATUSES.has(failure.status);
  }
}

/**
 * Whether a final failure leaves the outcome unknown: the request may have taken effect (it was
 * sent and no answer came, or a gateway answered 502/504) and the method is not read-only.
 */
export function isIndeterminate(failure: AttemptFailure, method: HttpMethod): boolean {
  if (isSafeMethod(method)) return false;
  switch (failure.kind) {
    case 'not-sent':
      return false;
    case 'timeout':
      return failure.sent;
    case 'broken':
      return true;
    case 'status':
      return AMBIGUOUS_STATUSES.has(failure.status);
  }
}

/** Backoff settings. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniformly random wait in [0, min(max, base·2^(n-1))) after
 * the n-th failed attempt, which spreads retries of many callers instead of synchronising them.
 */
export function backoffDelayMs(
  failedAttempts: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP date) into milliseconds from `now`; undefined when
 * absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before the next attempt: the jittered backoff, but never less than `Retry-After`.
 * Undefined when `Retry-After` asks for longer than the cap: the call ends instead of waiting.
 */
export function nextDelayMs(
  failedAttempts: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > options.maxMs) return undefined;
  return Math.max(retryAfterMs ?? 0, backoffDelayMs(failedAttempts, options, random));
}

/** Retry budget settings. */
export interface RetryBudgetOptions {
  /** Retries earned per first attempt (0.2: at most one retry per five calls in a storm). */
  readonly ratio: number;
  /** Tokens an origin starts with and can save up to (allows short bursts of retries). */
  readonly maxTokens: number;
}

/**
 * A per-origin retry budget (token bucket): every first attempt deposits `ratio` tokens, every
 * retry spends one. When an origin fails everything, retries stop once its savings are spent, so a
 * 5xx storm is amplified by at most `1 + ratio` instead of by the attempt count. Per replica.
 */
export class RetryBudget {
  private readonly tokens = new Map<string, number>();

  constructor(private readonly options: RetryBudgetOptions) {}

  /** Records a first attempt to `origin`. */
  deposit(origin: string): void {
    const current = this.tokens.get(origin) ?? this.options.maxTokens;
    this.tokens.delete(origin);
    this.tokens.set(origin, Math.min(this.options.maxTokens, current + this.options.ratio));
    // Bounded memory: forget the least recently used origins (they start full again).
    if (this.tokens.size > 10_000) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
  }

  /** Takes one token for a retry to `origin`; false when the budget is spent. */
  withdraw(origin: string): boolean {
    const current = this.tokens.get(origin) ?? this.options.maxTokens;
    if (current < 1) return false;
    this.tokens.set(origin, current - 1);
    return true;
  }

  /** Tokens left for `origin` (for tests and metrics). */
  available(origin: string): number {
    return this.tokens.get(origin) ?? this.options.maxTokens;
  }
}
