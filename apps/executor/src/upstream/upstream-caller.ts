import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { context, SpanKind, trace } from '@opentelemetry/api';

import type { HttpMethod, RunError, RunOutcome } from '@tengine/contracts';
import { TENGINE_VERSION } from '@tengine/runtime';
import { Attributes, injectTraceHeaders, tracer } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';
import { EgressPolicy } from '../egress/egress-policy.js';
import { runError } from '../runs/run-errors.js';
import { authHeaders, type OutboundAuth } from '../signing/request-signer.js';
import {
  isIndeterminate,
  isRepeatable,
  nextDelayMs,
  parseRetryAfter,
  RetryBudget,
  shouldRetry,
  type AttemptFailure,
} from './retry-policy.js';
import {
  locationOf,
  retryAfterOf,
  UpstreamClient,
  type AttemptOutcome,
} from './upstream-client.js';

/** Header names of the identity tengine injects into every request (documented in the README). */
export const IDENTITY_HEADERS = {
  projectId: 'X-Tengine-Project-Id',
  integrationId: 'X-Tengine-Integration-Id',
  memberId: 'X-Tengine-Member-Id',
  memberExternalId: 'X-Tengine-Member-External-Id',
  runId: 'X-Tengine-Run-Id',
} as const;

/** Who the call is made for; injected as headers and bound by the canonical signature. */
export interface CallIdentity {
  readonly projectId: string;
  readonly integrationId: string;
  readonly memberId: string | null;
  readonly memberExternalId: string | null;
  readonly runId: string;
}

/** A rendered, ready-to-sign call. */
export interface PreparedCall {
  readonly origin: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly query: string;
  readonly body: string | null;
  readonly templateHeaders: ReadonlyArray<readonly [string, string]>;
  readonly identity: CallIdentity;
  readonly auth: OutboundAuth;
  /** Sent as `Idempotency-Key` on every attempt (scoped to project and principal). */
  readonly idempotencyKey: string;
  readonly traceparent?: string | undefined;
  readonly timeoutMs: number;
  readonly idempotentHint: boolean | undefined;
}

/** The last response received, when the API answered. */
export interface ReceivedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** How a call went, over all its attempts. */
export interface CallResult {
  readonly outcome: RunOutcome;
  readonly attempts: number;
  /** False when no attempt can have reached the API (repeating the call is then harmless). */
  readonly sent: boolean;
  readonly response?: ReceivedResponse;
  readonly error?: RunError;
  readonly upstreamMs: number;
  /** Time spent building and signing the attempts' headers. */
  readonly signMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number | null;
}

/** TLS and DNS failures that another attempt cannot fix. */
const PERMANENT_CONNECT_ERRORS =
  /^(ENOTFOUND|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_SSL_)/;

function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? code : typeof cause === 'string' ? cause : error.name;
}

/** A short, secret-free description of a network error (its code and message). */
function describeError(error: Error): string {
  return `${errorCode(error)}: ${error.message}`.slice(0, 512);
}

/** Builds the headers of one attempt: template, transport, identity, idempotency, auth. */
function attemptHeaders(
  call: PreparedCall,
  attempt: number,
  signedAt: Date,
  target: string,
  traceparent: string | undefined,
): Record<string, string> {
  const headers = new Map<string, [string, string]>();
  const set = (name: string, value: string): void => {
    headers.set(name.toLowerCase(), [name, value]);
  };
  const setDefault = (name: string, value: string): void => {
    if (!headers.has(name.toLowerCase())) set(name, value);
  };
  for (const [name, value] of call.templateHeaders) set(name, value);
  setDefault('User-Agent', `tengine-executor/${TENGINE_VERSION}`);
  setDefault('Accept', 'application/json, */*;q=0.8');
  // Always ours: the client decodes exactly these, with a cap on the decoded size.
  set('Accept-Encoding', 'gzip, deflate, br');
  if (call.body !== null) setDefault('Content-Type', 'application/json');
  const identity = call.identity;
  const externalId =
    identity.memberExternalId === null ? '' : encodeURIComponent(identity.memberExternalId);
  set(IDENTITY_HEADERS.projectId, identity.projectId);
  set(IDENTITY_HEADERS.integrationId, identity.integrationId);
  if (identity.memberId !== null) set(IDENTITY_HEADERS.memberId, identity.memberId);
  if (identity.memberExternalId !== null) set(IDENTITY_HEADERS.memberExternalId, externalId);
  set(IDENTITY_HEADERS.runId, identity.runId);
  set('Idempotency-Key', call.idempotencyKey);
  if (traceparent) set('traceparent', traceparent);
  const signed = authHeaders(
    call.auth,
    {
      // Unique per attempt (and per Run), so receivers can reject a captured request replayed.
      id: `msg_${identity.runId}_${attempt}`,
      timestamp: String(Math.floor(signedAt.getTime() / 1000)),
      method: call.method,
      target,
      body: call.body ?? '',
      projectId: identity.projectId,
      integrationId: identity.integrationId,
      memberId: identity.memberId ?? '',
      memberExternalId: externalId,
      idempotencyKey: call.idempotencyKey,
    },
    signedAt,
  );
  for (const [name, value] of signed) set(name, value);
  return Object.fromEntries([...headers.values()]);
}

/** The part of a {@link CallResult} one attempt decides. */
type AttemptResult = Pick<CallResult, 'outcome' | 'response' | 'error' | 'responseBytes'>;

/** What one attempt means for the call: final, or a failure that may be retried. */
interface AttemptVerdict {
  readonly result: AttemptResult;
  /** Set when the attempt failed in a way that might be retried. */
  readonly failure?: AttemptFailure;
  readonly retryAfterMs?: number | undefined;
}

/**
 * Sends a prepared call to the customer's API with the retry rules: at most `maxAttempts`, capped
 * exponential backoff with full jitter, `Retry-After` honoured, a per-origin retry budget, and
 * only retries that cannot duplicate an effect. Never throws for upstream problems.
 */
@Injectable()
export class UpstreamCaller implements OnModuleDestroy {
  private readonly client: UpstreamClient;
  private readonly budget: RetryBudget;

  constructor(@Inject(EXECUTOR_CONFIG) private readonly config: ExecutorConfig) {
    this.client = new UpstreamClient(new EgressPolicy(config.egress), {
      connectTimeoutMs: config.connectTimeoutMs,
      maxResponseBytes: config.maxResponseBytes,
    });
    this.budget = new RetryBudget(config.retryBudget);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }

  async call(call: PreparedCall): Promise<CallResult> {
    const target = call.query === '' ? call.path : `${call.path}?${call.query}`;
    const repeatable = isRepeatable(call.method, call.idempotentHint);
    const requestBytes = call.body === null ? 0 : Buffer.byteLength(call.body);
    this.budget.deposit(call.origin);
    let upstreamMs = 0;
    let signMs = 0;
    let sent = false;
    const { hostname, port } = new URL(call.origin);
    for (let attempt = 1; ; attempt += 1) {
      // One client span per attempt; the API receives its context as `traceparent`.
      const span = tracer().startSpan(`HTTP ${call.method}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': call.method,
          'server.address': hostname,
          'server.port': Number(port) || 443,
          'http.request.resend_count': attempt - 1,
          [Attributes.RUN_ID]: call.identity.runId,
        },
      });
      const traceparent =
        injectTraceHeaders(trace.setSpan(context.active(), span))['traceparent'] ??
        call.traceparent;
      const signing = performance.now();
      const headers = attemptHeaders(call, attempt, new Date(), target, traceparent);
      signMs += performance.now() - signing;
      const outcome = await this.client.send(
        { origin: call.origin, target, method: call.method, headers, body: call.body },
        call.timeoutMs,
      );
      if (outcome.kind === 'response') {
        span.setAttribute('http.response.status_code', outcome.status);
        if (outcome.status >= 400) span.setAttribute(Attributes.ERROR_TYPE, String(outcome.status));
      } else {
        span.setAttribute(Attributes.ERROR_TYPE, outcome.kind);
        span.setStatus({ code: 2, message: outcome.kind });
      }
      span.end();
      upstreamMs += outcome.elapsedMs;
      sent ||= outcome.kind === 'response' || outcome.kind === 'too_large' || outcome.sent;
      const verdict = this.judge(outcome);
      const { failure } = verdict;
      const delay =
        failure !== undefined &&
        attempt < this.config.maxAttempts &&
        shouldRetry(failure, repeatable) &&
        this.delayBeforeRetry(attempt, verdict.retryAfterMs, call.origin);
      if (typeof delay === 'number') {
        await sleep(delay);
        continue;
      }
      const indeterminate =
        failure !== undefined &&
        verdict.result.outcome === 'failed' &&
        isIndeterminate(failure, call.method);
      return {
        ...verdict.result,
        outcome: indeterminate ? 'indeterminate' : verdict.result.outcome,
        attempts: attempt,
        sent,
        upstreamMs,
        signMs,
        requestBytes,
      };
    }
  }

  /** The wait before the next attempt, or false when the call should stop here. */
  private delayBeforeRetry(
    failedAttempts: number,
    retryAfterMs: number | undefined,
    origin: string,
  ): number | false {
    const delay = nextDelayMs(failedAttempts, retryAfterMs, this.config.backoff);
    if (delay === undefined) return false;
    // Spend budget last, so a retry refused for another reason costs nothing.
    return this.budget.withdraw(origin) ? delay : false;
  }

  private judge(outcome: AttemptOutcome): AttemptVerdict {
    switch (outcome.kind) {
      case 'response': {
        const response = { status: outcome.status, headers: outcome.headers, body: outcome.body };
        const received = { response, responseBytes: outcome.body.length };
        if (outcome.status >= 200 && outcome.status < 300) {
          return { result: { ...received, outcome: 'succeeded' } };
        }
        if (outcome.status >= 300 && outcome.status < 400) {
          const location = locationOf(outcome.headers);
          const excerpt = `redirect${location ? ` to ${location}` : ''} (not followed)`;
          return {
            result: {
              ...received,
              outcome: 'failed',
              error: runError('EXECUTOR_UPSTREAM_REDIRECT', {
                upstreamStatus: outcome.status,
                excerpt,
              }),
            },
          };
        }
        return {
          result: {
            ...received,
            outcome: 'failed',
            error: runError('EXECUTOR_UPSTREAM_NON_2XX', { upstreamStatus: outcome.status }),
          },
          failure: { kind: 'status', status: outcome.status },
          retryAfterMs: parseRetryAfter(retryAfterOf(outcome.headers)),
        };
      }
      case 'too_large':
        return {
          result: {
            outcome: 'failed',
            responseBytes: null,
            error: runError('EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE', {
              upstreamStatus: outcome.status,
              excerpt: `larger than ${this.config.maxResponseBytes} bytes`,
            }),
          },
        };
      case 'timeout':
        return {
          result: {
            outcome: 'failed',
            responseBytes: null,
            error: runError('EXECUTOR_UPSTREAM_TIMEOUT', {
              excerpt: outcome.sent
                ? 'no response in time'
                : 'no connection in time (nothing was sent)',
            }),
          },
          failure: { kind: 'timeout', sent: outcome.sent },
        };
      case 'error': {
        const code = errorCode(outcome.error);
        if (code === 'ETENGINE_EGRESS_DENIED') {
          return {
            result: {
              outcome: 'rejected',
              responseBytes: null,
              error: runError('EXECUTOR_EGRESS_DENIED', { excerpt: outcome.error.message }),
            },
          };
        }
        const suffix = outcome.sent ? ' (after the request was sent)' : ' (nothing was sent)';
        return {
          result: {
            outcome: 'failed',
            responseBytes: null,
            error: runError('EXECUTOR_UPSTREAM_CONNECTION_ERROR', {
              excerpt: `${describeError(outcome.error)}${suffix}`,
            }),
          },
          failure: outcome.sent
            ? { kind: 'broken' }
            : { kind: 'not-sent', permanent: PERMANENT_CONNECT_ERRORS.test(code) },
        };
      }
    }
  }
}
