import {
  EXECUTOR_ERRORS,
  type RunEvent,
  type RunEventName,
  type RunStatus,
} from '@tengine/contracts';

/** What an event says beyond `RunEventSchema`, when the executor sends it (newer executors). */
export interface RunEventExtras {
  readonly toolListVersion: number | null;
  readonly scopes: readonly string[] | null;
}

/** One row of `audit.runs` as written from a Run event (review fields are never set from events). */
export interface RunRecord {
  readonly runId: string;
  readonly projectId: string;
  readonly integrationId: string;
  readonly apiKeyId: string;
  readonly principalKind: RunEvent['principalKind'];
  readonly memberId: string | null;
  readonly memberExternalId: string | null;
  readonly requestId: RunEvent['requestId'];
  readonly traceId: string | null;
  readonly toolId: string | null;
  readonly toolName: string;
  readonly toolVersion: number;
  readonly method: string | null;
  readonly upstreamHost: string | null;
  readonly status: RunStatus;
  readonly upstreamStatus: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly attempts: number;
  readonly replayed: boolean;
  readonly replayedFromRunId: string | null;
  readonly idempotencyKey: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly upstreamMs: number | null;
  readonly requestBytes: number | null;
  readonly responseBytes: number | null;
  readonly toolListVersion: number | null;
  readonly scopes: readonly string[] | null;
  readonly executor: string;
  readonly lastEvent: RunEventName;
  readonly streamSequence: number | null;
}

/**
 * How far a Run has progressed: 1 while running, 2 once it ended. Mirrors the SQL function
 * `audit.run_status_rank`, which is what actually guards the table.
 */
export function statusRank(status: RunStatus): 1 | 2 {
  return status === 'running' ? 1 : 2;
}

/** The row a Run event writes. The error message is the executor's stable detail for the code. */
export function toRunRecord(
  event: RunEvent,
  extras: RunEventExtras,
  streamSequence: number | null,
): RunRecord {
  return {
    runId: event.runId,
    projectId: event.projectId,
    integrationId: event.integrationId,
    apiKeyId: event.keyId,
    principalKind: event.principalKind,
    memberId: event.memberId,
    memberExternalId: event.memberExternalId,
    requestId: event.requestId,
    traceId: event.traceId,
    toolId: event.tool.id,
    toolName: event.tool.name,
    toolVersion: event.tool.version,
    method: event.method,
    upstreamHost: event.host,
    status: event.status,
    upstreamStatus: event.upstreamStatus,
    errorCode: event.errorCode,
    errorMessage: event.errorCode === null ? null : EXECUTOR_ERRORS[event.errorCode].detail,
    attempts: event.attempts,
    replayed: event.replayed,
    replayedFromRunId: event.replayedFromRunId,
    idempotencyKey: event.idempotencyKey,
    startedAt: event.timings.startedAt,
    finishedAt: event.timings.finishedAt,
    durationMs: event.timings.durationMs,
    upstreamMs: event.timings.upstreamMs,
    requestBytes: event.requestBytes,
    responseBytes: event.responseBytes,
    toolListVersion: extras.toolListVersion,
    scopes: extras.scopes,
    executor: event.executor,
    lastEvent: event.event,
    streamSequence,
  };
}

/**
 * Keeps, per Run, the most advanced of the given items (the first of equals), so one batch
 * statement never touches a row twice; the others are already superseded and only need an ack.
 */
export function latestPerRun<T extends { readonly record: RunRecord }>(
  items: readonly T[],
): { winners: T[]; superseded: T[] } {
  const best = new Map<string, T>();
  const superseded: T[] = [];
  for (const item of items) {
    const current = best.get(item.record.runId);
    if (current === undefined) {
      best.set(item.record.runId, item);
    } else if (statusRank(item.record.status) > statusRank(current.record.status)) {
      best.set(item.record.runId, item);
      superseded.push(current);
    } else {
      superseded.push(item);
    }
  }
  return { winners: [...best.values()], superseded };
}
