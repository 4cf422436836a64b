import type { ExecuteRunReply, ProjectPrincipal, RunEvent } from '@tengine/contracts';

/** What is known about a Run when it starts. */
export interface RunFacts {
  readonly runId: string;
  readonly requestId: string | number | null;
  readonly principal: ProjectPrincipal;
  readonly tool: { readonly name: string; readonly version: number; readonly id: string | null };
  readonly method: string | null;
  readonly host: string | null;
  readonly idempotencyKey: string;
  readonly traceId: string | null;
  readonly executor: string;
  readonly startedAt: Date;
}

/** Measurements of a finished Run that the reply does not carry. */
export interface RunMeasurements {
  readonly finishedAt: Date;
  readonly upstreamMs: number | null;
  readonly requestBytes: number | null;
  readonly responseBytes: number | null;
}

/** The `started` event of a Run (also the context any replica can finish it from). */
export function startedEvent(facts: RunFacts): RunEvent {
  const principal = facts.principal;
  const member = principal.kind === 'member_session';
  return {
    event: 'started',
    runId: facts.runId,
    requestId: facts.requestId,
    projectId: principal.projectId,
    integrationId: principal.integrationId,
    keyId: principal.keyId,
    principalKind: principal.kind,
    memberId: member ? principal.memberId : null,
    memberExternalId: member ? principal.memberExternalId : null,
    tool: { ...facts.tool },
    method: facts.method,
    host: facts.host,
    status: 'running',
    upstreamStatus: null,
    attempts: 0,
    replayed: false,
    replayedFromRunId: null,
    timings: {
      startedAt: facts.startedAt.toISOString(),
      finishedAt: null,
      durationMs: null,
      upstreamMs: null,
    },
    requestBytes: null,
    responseBytes: null,
    errorCode: null,
    idempotencyKey: facts.idempotencyKey,
    traceId: facts.traceId,
    executor: facts.executor,
  };
}

/** The terminal event of a Run: its context plus the outcome the reply reports. */
export function terminalEvent(
  context: RunEvent,
  reply: ExecuteRunReply,
  measured: RunMeasurements,
  executor: string,
): RunEvent {
  const startedAt = Date.parse(context.timings.startedAt);
  return {
    ...context,
    event: reply.status,
    runId: reply.runId,
    status: reply.status,
    upstreamStatus: reply.upstream?.status ?? reply.error?.upstreamStatus ?? null,
    attempts: reply.attempts,
    replayed: reply.replayed,
    replayedFromRunId: reply.replayedFromRunId ?? null,
    timings: {
      startedAt: context.timings.startedAt,
      finishedAt: measured.finishedAt.toISOString(),
      durationMs: Math.max(0, measured.finishedAt.getTime() - startedAt),
      upstreamMs: measured.upstreamMs,
    },
    requestBytes: measured.requestBytes,
    responseBytes: measured.responseBytes,
    errorCode: reply.error?.code ?? null,
    executor,
  };
}
