import { Inject, Injectable } from '@nestjs/common';

import {
  DomainError,
  RESERVED_TEMPLATE_VARIABLES,
  type ExecuteRunReply,
  type ExecuteRunRequest,
  type ProjectPrincipal,
  type ResolvedTool,
  type RunError,
  type RunEvent,
  type RunOutcome,
} from '@tengine/contracts';
import { APP_LOGGER, SERVICE_INFO, type ServiceInfo } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';
import type { LedgerKey } from '../ledger/idempotency-ledger.repository.js';
import {
  renderRequest,
  RenderError,
  type JsonValue,
  type RenderedRequest,
} from '../rendering/request-renderer.js';
import { runError, EXCERPT_MAX_LENGTH } from '../runs/run-errors.js';
import { startedEvent, terminalEvent, type RunFacts } from '../runs/run-events.js';
import { RunJournal } from '../runs/run-journal.js';
import {
  prepareAuth,
  SecretUnusableError,
  secretsOf,
  type OutboundAuth,
} from '../signing/request-signer.js';
import { ToolResolver } from '../tools/tool-resolver.js';
import { isRepeatable, isSafeMethod } from '../upstream/retry-policy.js';
import { UpstreamCaller, type CallResult } from '../upstream/upstream-caller.js';
import { callFingerprint, upstreamIdempotencyKey } from './call-fingerprint.js';
import { errorExcerpt, replyBody } from './reply-body.js';

/** Statuses by which an API says it did not process the request: the key is released for a retry. */
const NOT_PROCESSED_STATUSES: ReadonlySet<number> = new Set([408, 429, 503]);

/** When the Run started, on the wall clock (for events) and the monotonic one (for durations). */
interface RunClock {
  readonly startedAt: Date;
  readonly started: number;
}

/** The ledger identity of a principal: keys are scoped to one API key or one member. */
export function principalKey(principal: ProjectPrincipal): string {
  return principal.kind === 'member_session'
    ? `member:${principal.memberId}`
    : `api_key:${principal.keyId}`;
}

/** Everything needed to run a claimed call. */
interface ClaimedCall {
  readonly request: ExecuteRunRequest;
  readonly tool: ResolvedTool['tool'];
  readonly key: LedgerKey;
  readonly context: RunEvent;
  readonly clock: RunClock;
  readonly rendered: RenderedRequest;
  readonly auth: OutboundAuth;
  readonly retrySafe: boolean;
  /** Milliseconds spent so far per phase (reported in the reply's `timings`). */
  readonly spent: { render: number; ledger: number; publish: number };
}

/**
 * Runs one tool call end to end: resolve the tool version, check the caller may use it, render
 * and sign the request, claim the idempotency key, call the API with safe retries, store the
 * outcome, and publish the Run's events, answering only once the terminal event is acknowledged.
 */
@Injectable()
export class RunExecutorService {
  constructor(
    private readonly tools: ToolResolver,
    private readonly caller: UpstreamCaller,
    private readonly journal: RunJournal,
    @Inject(EXECUTOR_CONFIG) private readonly config: ExecutorConfig,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(request: ExecuteRunRequest, traceId: string | null): Promise<ExecuteRunReply> {
    const clock: RunClock = { startedAt: new Date(), started: performance.now() };
    const principal = request.principal;
    let facts: RunFacts = {
      runId: request.runId,
      requestId: request.requestId,
      principal,
      tool: { name: request.tool.name, version: request.tool.version, id: null },
      method: null,
      host: null,
      idempotencyKey: request.idempotencyKey,
      traceId,
      executor: this.info.instance,
      startedAt: clock.startedAt,
    };
    const reserved = RESERVED_TEMPLATE_VARIABLES.filter((name) =>
      Object.prototype.hasOwnProperty.call(request.arguments, name),
    );
    if (reserved.length > 0) {
      return this.refuse(
        facts,
        clock,
        'rejected',
        runError('EXECUTOR_RESERVED_VARIABLE', {
          excerpt: `arguments named ${reserved.join(', ')}`,
        }),
      );
    }

    let lookup;
    try {
      lookup = await this.tools.resolve(
        principal.projectId,
        request.tool.name,
        request.tool.version,
      );
    } catch (error) {
      // Still record the Run (best effort) so the id the gateway reports can be found.
      await this.refuse(facts, clock, 'failed', runError('EXECUTOR_REGISTRY_UNAVAILABLE')).catch(
        () => undefined,
      );
      throw error;
    }
    if (lookup.kind === 'missing') {
      return this.refuse(facts, clock, 'rejected', runError('EXECUTOR_TOOL_UNAVAILABLE'));
    }
    if (lookup.kind === 'secret-unreadable') {
      return this.refuse(facts, clock, 'failed', runError('EXECUTOR_SECRET_DECRYPT_FAILED'));
    }
    const { tool, enabledNow, secret } = lookup.tool;
    facts = {
      ...facts,
      tool: { ...facts.tool, id: tool.id },
      method: tool.method,
      host: new URL(tool.base_url).host,
    };
    if (
      !enabledNow ||
      (tool.required_scope !== null && !principal.scopes.includes(tool.required_scope))
    ) {
      return this.refuse(facts, clock, 'rejected', runError('EXECUTOR_TOOL_UNAVAILABLE'));
    }
    if (tool.require_member && principal.kind !== 'member_session') {
      return this.refuse(facts, clock, 'rejected', runError('EXECUTOR_MEMBER_REQUIRED'));
    }

    const rendering = performance.now();
    let auth: OutboundAuth;
    try {
      auth = prepareAuth(tool.auth_strategy, secret);
    } catch (error) {
      if (!(error instanceof SecretUnusableError)) throw error;
      return this.refuse(
        facts,
        clock,
        'failed',
        runError('EXECUTOR_SECRET_DECRYPT_FAILED', {
          excerpt: error.message,
        }),
      );
    }
    let rendered: RenderedRequest;
    try {
      rendered = renderRequest(tool, {
        arguments: request.arguments as Record<string, JsonValue>,
        reserved: {
          project_id: principal.projectId,
          integration_id: principal.integrationId,
          ...(principal.kind === 'member_session' ? { member_id: principal.memberId } : {}),
        },
      });
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      return this.refuse(
        facts,
        clock,
        'rejected',
        runError('EXECUTOR_RENDER_FAILED', {
          excerpt: error.reason,
        }),
      );
    }

    const claimed: ClaimedCall = {
      request,
      tool,
      key: {
        projectId: principal.projectId,
        principal: principalKey(principal),
        idempotencyKey: request.idempotencyKey,
      },
      context: startedEvent(facts),
      clock,
      rendered,
      auth,
      retrySafe: isRepeatable(tool.method, tool.annotations.idempotentHint),
      spent: { render: performance.now() - rendering, ledger: 0, publish: 0 },
    };
    return this.claimAndRun(claimed, facts);
  }

  /**
   * Claims the key and runs the call, or answers from the ledger: the stored result (same key and
   * arguments, completed), "in progress" (409), "different arguments" (422). An abandoned claim
   * (its executor died) is ended first, then the claim is tried again.
   */
  private async claimAndRun(call: ClaimedCall, facts: RunFacts): Promise<ExecuteRunReply> {
    const fingerprint = callFingerprint(
      call.tool.name,
      call.request.arguments as Record<string, JsonValue>,
    );
    const attempts = this.config.maxAttempts;
    // The longest a live executor can hold the claim; past it (plus grace) the claim is abandoned.
    const leaseMs =
      attempts * call.tool.timeout_ms +
      (attempts - 1) * this.config.backoff.maxMs +
      this.config.leaseGraceMs;
    // `started` goes out only once the key is ours, never alongside the claim: a durable started
    // event must have a ledger row behind it, so that if this replica dies any other one ends the
    // Run (a started event whose claim never landed would leave the Run "running" forever).
    for (let round = 0; round < 5; round += 1) {
      const claiming = performance.now();
      let owned: boolean;
      try {
        owned = await this.journal.ledger.claim(call.key, {
          fingerprint,
          runId: call.request.runId,
          retrySafe: call.retrySafe,
          runContext: call.context,
          leaseMs,
          retentionHours: this.config.retentionHours,
        });
      } catch (error) {
        return this.ledgerUnavailable(facts, call.clock, error);
      }
      call.spent.ledger += performance.now() - claiming;
      if (owned) {
        const publishing = performance.now();
        const startedFailure = await this.journal.publish(call.context).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        call.spent.publish += performance.now() - publishing;
        // The lease covers the upstream phase plus the grace. When getting here ate into the
        // grace (the run log was slow to acknowledge `started`, e.g. during a NATS outage), take
        // the lease again before sending: a replica that already ended the claim as abandoned
        // has recorded the Run as interrupted, so send nothing and answer that.
        if (
          startedFailure === undefined &&
          performance.now() - claiming > this.config.leaseGraceMs / 2 &&
          !(await this.journal.ledger.renew(call.key, call.request.runId, leaseMs))
        ) {
          const entry = await this.journal.ledger.find(call.key);
          if (entry?.runId === call.request.runId && entry.result !== null) return entry.result;
          throw new DomainError('INTERNAL', 'The idempotency claim was lost; retry the call.');
        }
        return this.run(call, startedFailure);
      }
      const entry = await this.journal.ledger.find(call.key);
      if (entry === undefined) continue;
      if (entry.fingerprint !== fingerprint) {
        return this.refuse(
          facts,
          call.clock,
          'rejected',
          runError('EXECUTOR_IDEMPOTENCY_KEY_REUSED'),
        );
      }
      switch (entry.state) {
        case 'completed':
          if (entry.result !== null) return this.replay(facts, call, entry.result);
          continue;
        case 'in_flight':
          if (!entry.leaseExpired) {
            return this.refuse(
              facts,
              call.clock,
              'rejected',
              runError('EXECUTOR_IDEMPOTENCY_IN_PROGRESS'),
            );
          }
          await this.journal.interrupt(entry, this.info.instance);
          continue;
        case 'released':
          // Its terminal event is not acknowledged yet: publish it before the key is reused.
          await this.journal.republish(entry);
          continue;
      }
    }
    throw new DomainError('INTERNAL', 'The idempotency key could not be claimed; retry the call.');
  }

  private async run(
    call: ClaimedCall,
    startedFailure: { error: unknown } | undefined,
  ): Promise<ExecuteRunReply> {
    const { request, tool, rendered, key } = call;
    const principal = request.principal;
    if (startedFailure !== undefined) {
      // Nothing was sent: give the key back so a retry can execute.
      await this.journal.ledger.abandon(key, request.runId).catch(() => undefined);
      throw startedFailure.error;
    }
    let result: CallResult;
    try {
      result = await this.caller.call({
        origin: rendered.origin,
        method: rendered.method,
        path: rendered.path,
        query: rendered.query,
        body: rendered.body,
        templateHeaders: rendered.headers,
        identity: {
          projectId: principal.projectId,
          integrationId: principal.integrationId,
          memberId: principal.kind === 'member_session' ? principal.memberId : null,
          memberExternalId: principal.kind === 'member_session' ? principal.memberExternalId : null,
          runId: request.runId,
        },
        auth: call.auth,
        idempotencyKey: upstreamIdempotencyKey(key.projectId, key.principal, key.idempotencyKey),
        traceparent: request.traceparent,
        timeoutMs: tool.timeout_ms,
        idempotentHint: tool.annotations.idempotentHint,
      });
    } catch (error) {
      // A defect, not an upstream problem: whether anything was sent is unknown.
      this.logger.error({ err: error, runId: request.runId }, 'tool call failed unexpectedly');
      result = {
        outcome: isSafeMethod(tool.method) ? 'failed' : 'indeterminate',
        attempts: 1,
        sent: true,
        error: runError('EXECUTOR_EXECUTION_FAILED'),
        upstreamMs: 0,
        signMs: 0,
        requestBytes: rendered.body === null ? 0 : Buffer.byteLength(rendered.body),
        responseBytes: null,
      };
    }
    const upstream = result.response
      ? replyBody(result.response, this.config.replyBodyMaxBytes, secretsOf(call.auth))
      : undefined;
    let error = result.error;
    if (error?.code === 'EXECUTOR_UPSTREAM_NON_2XX' && upstream) {
      error = runError(error.code, {
        upstreamStatus: upstream.status,
        excerpt: errorExcerpt(upstream, EXCERPT_MAX_LENGTH),
      });
    }
    const reply: ExecuteRunReply = {
      runId: request.runId,
      status: result.outcome,
      attempts: result.attempts,
      replayed: false,
      durationMs: elapsed(call.clock),
      ...(upstream ? { upstream } : {}),
      ...(error ? { error } : {}),
    };
    const released =
      !result.sent ||
      (call.retrySafe && result.outcome !== 'succeeded') ||
      (result.response !== undefined && NOT_PROCESSED_STATUSES.has(result.response.status));
    const event = terminalEvent(
      call.context,
      reply,
      {
        finishedAt: new Date(),
        upstreamMs: result.upstreamMs,
        requestBytes: result.requestBytes,
        responseBytes: result.responseBytes,
      },
      this.info.instance,
    );
    const recorded = await this.journal.complete(
      key,
      released ? 'released' : 'completed',
      reply,
      event,
    );
    return {
      ...reply,
      timings: {
        render: round3(call.spent.render),
        sign: round3(result.signMs),
        ledger: round3(call.spent.ledger + recorded.ledgerMs),
        upstream: round3(result.upstreamMs),
        publish: round3(call.spent.publish + recorded.publishMs),
        total: elapsed(call.clock),
      },
    };
  }

  /**
   * The key could not be claimed because the ledger (PostgreSQL) failed: nothing was sent, so the
   * Run ends as failed, and a retry with the same key is safe. When even that cannot be recorded,
   * the same error is thrown for the gateway to report.
   */
  private async ledgerUnavailable(
    facts: RunFacts,
    clock: RunClock,
    cause: unknown,
  ): Promise<ExecuteRunReply> {
    this.logger.error({ err: cause, runId: facts.runId }, 'idempotency ledger unavailable');
    try {
      return await this.refuse(facts, clock, 'failed', runError('EXECUTOR_LEDGER_UNAVAILABLE'));
    } catch {
      throw new DomainError(
        'EXECUTOR_LEDGER_UNAVAILABLE',
        'Idempotency ledger unavailable: the call was not sent.',
        { cause, details: { runId: facts.runId } },
      );
    }
  }

  /** Answers with the stored result of an earlier Run with the same key and arguments. */
  private async replay(
    facts: RunFacts,
    call: ClaimedCall,
    stored: ExecuteRunReply,
  ): Promise<ExecuteRunReply> {
    const reply: ExecuteRunReply = {
      ...stored,
      runId: call.request.runId,
      attempts: 0,
      replayed: true,
      replayedFromRunId: stored.runId,
      durationMs: elapsed(call.clock),
    };
    await this.journal.publish(
      terminalEvent(startedEvent(facts), reply, measuredNothing(), this.info.instance),
    );
    return reply;
  }

  /** Answers without calling the API, after recording the Run's terminal event. */
  private async refuse(
    facts: RunFacts,
    clock: RunClock,
    status: Extract<RunOutcome, 'rejected' | 'failed'>,
    error: RunError,
  ): Promise<ExecuteRunReply> {
    const reply: ExecuteRunReply = {
      runId: facts.runId,
      status,
      attempts: 0,
      replayed: false,
      durationMs: elapsed(clock),
      error,
    };
    await this.journal.publish(
      terminalEvent(startedEvent(facts), reply, measuredNothing(), this.info.instance),
    );
    return reply;
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function elapsed(clock: RunClock): number {
  return round3(performance.now() - clock.started);
}

function measuredNothing() {
  return { finishedAt: new Date(), upstreamMs: null, requestBytes: null, responseBytes: null };
}
