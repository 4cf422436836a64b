import { randomUUID } from 'node:crypto';

import { ulid } from 'ulid';

import type { RunEvent, RunEventName } from '@tengine/contracts';

/** The project, integration, key and member a series of Runs belongs to. */
export interface RunOwner {
  readonly projectId: string;
  readonly integrationId: string;
  readonly keyId: string;
  readonly memberId: string | null;
  readonly memberExternalId: string | null;
}

export function runOwner(overrides: Partial<RunOwner> = {}): RunOwner {
  return {
    projectId: randomUUID(),
    integrationId: randomUUID(),
    keyId: `key_${randomUUID().slice(0, 8)}`,
    memberId: null,
    memberExternalId: null,
    ...overrides,
  };
}

function timings(event: RunEventName, startedAt: string, durationMs = 42): RunEvent['timings'] {
  const finished = event !== 'started';
  return {
    startedAt,
    finishedAt: finished ? new Date(Date.parse(startedAt) + durationMs).toISOString() : null,
    durationMs: finished ? durationMs : null,
    upstreamMs: finished ? Math.max(durationMs - 2, 0) : null,
  };
}

/**
 * A valid Run event as the executor publishes it; `event` decides the status and whether the
 * finishing fields are set.
 */
export function runEvent(
  event: RunEventName,
  overrides: Partial<Omit<RunEvent, 'event'>> = {},
  owner: RunOwner = runOwner(),
): RunEvent {
  const finished = event !== 'started';
  return {
    event,
    runId: ulid(),
    requestId: 7,
    projectId: owner.projectId,
    integrationId: owner.integrationId,
    keyId: owner.keyId,
    principalKind: owner.memberId === null ? 'api_key' : 'member_session',
    memberId: owner.memberId,
    memberExternalId: owner.memberExternalId,
    tool: { name: 'get_weather', version: 1, id: randomUUID() },
    method: 'GET',
    host: 'api.example.com',
    status: event === 'started' ? 'running' : event,
    upstreamStatus: event === 'succeeded' ? 200 : event === 'failed' ? 502 : null,
    attempts: finished ? 1 : 0,
    replayed: false,
    replayedFromRunId: null,
    timings: timings(event, new Date().toISOString()),
    requestBytes: 0,
    responseBytes: finished ? 128 : null,
    errorCode: event === 'failed' ? 'EXECUTOR_UPSTREAM_NON_2XX' : null,
    idempotencyKey: `idem-${randomUUID()}`,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    executor: 'executor-test:1',
    ...overrides,
  };
}

/** The `started` and a terminal event of one Run (same id, key, tool and start). */
export function runPair(
  outcome: Exclude<RunEventName, 'started'>,
  owner: RunOwner,
  options: { startedAt?: string; durationMs?: number; tool?: string } = {},
): [RunEvent, RunEvent] {
  const startedAt = options.startedAt ?? new Date().toISOString();
  const tool = { name: options.tool ?? 'get_weather', version: 1, id: randomUUID() };
  const started = runEvent('started', { tool, timings: timings('started', startedAt) }, owner);
  const terminal = runEvent(
    outcome,
    {
      runId: started.runId,
      idempotencyKey: started.idempotencyKey,
      tool,
      timings: timings(outcome, startedAt, options.durationMs),
    },
    owner,
  );
  return [started, terminal];
}
