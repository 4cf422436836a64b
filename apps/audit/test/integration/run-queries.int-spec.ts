import { randomUUID } from 'node:crypto';

import { ulid } from 'ulid';

import { Subjects, type DomainError, type RunEvent, type RunView } from '@tengine/contracts';

import { startHarness, type AuditHarness, type AuditReplica } from '../support/audit-harness.js';
import { runOwner, runPair, type RunOwner } from '../support/run-events.js';

const HOUR_MS = 3_600_000;

describe('run history and usage queries', () => {
  let harness: AuditHarness;
  let audit: AuditReplica;
  const base = Date.parse('2025-11-20T00:00:00.000Z');
  const integration = randomUUID();
  const apiKeyOwner = runOwner({ integrationId: integration });
  const projectId = apiKeyOwner.projectId;
  const member: RunOwner = {
    ...apiKeyOwner,
    keyId: 'key_member',
    memberId: randomUUID(),
    memberExternalId: 'user-42',
  };
  const otherIntegration: RunOwner = { ...apiKeyOwner, integrationId: randomUUID() };
  const foreign = runOwner();
  const terminal: RunEvent[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    audit = await harness.startAudit({ AUDIT_RETENTION_DAYS: '0' });
    const at = (hours: number) => new Date(base + hours * HOUR_MS).toISOString();
    const seeds: Array<[RunEvent, RunEvent]> = [
      // Day 1 (2025-11-20): get_weather by the API key, ticket by the member.
      runPair('succeeded', apiKeyOwner, { startedAt: at(1), durationMs: 10 }),
      runPair('succeeded', apiKeyOwner, { startedAt: at(2), durationMs: 20 }),
      runPair('failed', apiKeyOwner, { startedAt: at(3), durationMs: 30 }),
      runPair('succeeded', member, { startedAt: at(4), durationMs: 40, tool: 'create_ticket' }),
      // Day 2 (2025-11-21).
      runPair('rejected', member, { startedAt: at(25), durationMs: 0, tool: 'create_ticket' }),
      runPair('succeeded', otherIntegration, { startedAt: at(26), durationMs: 60 }),
      // Another project, same tool names.
      runPair('succeeded', foreign, { startedAt: at(2), durationMs: 5 }),
    ];
    for (const [started, ended] of seeds) {
      await harness.publish(started);
      await harness.publish(ended);
      terminal.push(ended);
    }
    // Still running: only its started event exists.
    const [stillRunning] = runPair('succeeded', apiKeyOwner, { startedAt: at(27) });
    await harness.publish(stillRunning);
    terminal.push(stillRunning);
    await harness.eventually(async () => {
      const result = await harness.sql.query<{ total: number; finished: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status <> 'running')::int AS finished
         FROM audit.runs`,
      );
      return result.rows[0]?.total === 8 && result.rows[0].finished === 7;
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const list = (request: Record<string, unknown> = {}) =>
    audit.service.bus.request(Subjects.audit.runList, { projectId, ...request });

  const ids = (items: readonly RunView[]) => items.map((item) => item.run_id);
  const runIdAt = (index: number) => (terminal[index] as RunEvent).runId;

  it('should list the project’s runs newest first and nothing of another project', async () => {
    const page = await list();
    expect(ids(page.items)).toEqual([7, 5, 4, 3, 2, 1, 0].map(runIdAt));
    expect(page.next_cursor).toBeNull();
    const running = page.items[0];
    expect(running).toEqual(
      expect.objectContaining({ status: 'running', finished_at: null, duration_ms: null }),
    );
    const foreignPage = await list({ projectId: foreign.projectId });
    expect(ids(foreignPage.items)).toEqual([runIdAt(6)]);
    const emptyPage = await list({ projectId: randomUUID() });
    expect(emptyPage).toEqual({ items: [], next_cursor: null });
  });

  it('should page through with the cursor without skipping or repeating a run', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page.items));
      cursor = page.next_cursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual([7, 5, 4, 3, 2, 1, 0].map(runIdAt));
  });

  it('should filter by tool, member, status, key, integration and time range', async () => {
    expect(ids((await list({ tool: 'create_ticket' })).items)).toEqual([4, 3].map(runIdAt));
    expect(ids((await list({ member: member.memberId })).items)).toEqual([4, 3].map(runIdAt));
    expect(ids((await list({ member_external_id: 'user-42' })).items)).toEqual([4, 3].map(runIdAt));
    expect(ids((await list({ status: 'failed' })).items)).toEqual([runIdAt(2)]);
    expect(ids((await list({ key: 'key_member' })).items)).toEqual([4, 3].map(runIdAt));
    expect(ids((await list({ integration: otherIntegration.integrationId })).items)).toEqual([
      runIdAt(5),
    ]);
    expect(
      ids((await list({ from: '2025-11-20T02:00:00Z', to: '2025-11-21T00:00:00+00:00' })).items),
    ).toEqual([3, 2, 1].map(runIdAt));
    expect(ids((await list({ tool: 'get_weather', status: 'succeeded', limit: 1 })).items)).toEqual(
      [runIdAt(5)],
    );
  });

  it('should return a run of the project with every field, and 404 for any other', async () => {
    const failed = terminal[2] as RunEvent;
    const run = await audit.service.bus.request(Subjects.audit.runGet, {
      projectId,
      runId: failed.runId,
    });
    expect(run).toEqual(
      expect.objectContaining({
        run_id: failed.runId,
        request_id: 7,
        trace_id: failed.traceId,
        project_id: projectId,
        integration_id: integration,
        api_key_id: apiKeyOwner.keyId,
        principal_kind: 'api_key',
        member_id: null,
        tool_name: 'get_weather',
        tool_version: 1,
        method: 'GET',
        upstream_host: 'api.example.com',
        status: 'failed',
        upstream_status: 502,
        error_code: 'EXECUTOR_UPSTREAM_NON_2XX',
        error_message: 'Upstream tool call failed — non-2xx response',
        attempts: 1,
        idempotency_key: failed.idempotencyKey,
        started_at: '2025-11-20T03:00:00.000Z',
        finished_at: '2025-11-20T03:00:00.030Z',
        duration_ms: 30,
        review_decision: null,
        reviewer: null,
        final_action_id: null,
        executor: 'executor-test:1',
      }),
    );
    for (const probe of [
      { projectId: foreign.projectId, runId: failed.runId },
      { projectId, runId: runIdAt(6) },
      { projectId, runId: ulid() },
      { projectId, runId: 'not-a-run' },
    ]) {
      await expect(audit.service.bus.request(Subjects.audit.runGet, probe)).rejects.toEqual(
        expect.objectContaining({ code: 'AUDIT_RUN_NOT_FOUND' }) as DomainError,
      );
    }
  });

  it('should refuse a forged cursor, an inverted range and a bad limit', async () => {
    await expect(list({ cursor: 'forged' })).rejects.toEqual(
      expect.objectContaining({ code: 'AUDIT_CURSOR_INVALID' }) as DomainError,
    );
    await expect(
      list({ from: '2025-11-21T00:00:00Z', to: '2025-11-20T00:00:00Z' }),
    ).rejects.toEqual(expect.objectContaining({ code: 'AUDIT_TIME_RANGE_INVALID' }) as DomainError);
    await expect(
      audit.service.bus.requestUnchecked(Subjects.audit.runList, { projectId, limit: 0 }),
    ).rejects.toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as DomainError);
  });

  it('should report usage per tool, member, integration and day for the project only', async () => {
    const usage = await audit.service.bus.request(Subjects.audit.usageGet, {
      projectId,
      from: '2025-11-20T00:00:00Z',
      to: '2025-11-22T00:00:00Z',
    });
    expect(usage.totals).toEqual({
      runs: 7,
      running: 1,
      succeeded: 4,
      failed: 1,
      indeterminate: 0,
      rejected: 1,
      error_rate: 2 / 6,
      p50_ms: 25,
      p95_ms: 55,
    });
    expect(usage.by_tool.map((row) => [row.tool_name, row.runs, row.error_rate])).toEqual([
      ['get_weather', 5, 0.25],
      ['create_ticket', 2, 0.5],
    ]);
    expect(usage.by_member.map((row) => [row.member_id, row.member_external_id, row.runs])).toEqual(
      [
        [null, null, 5],
        [member.memberId, 'user-42', 2],
      ],
    );
    expect(usage.by_integration.map((row) => [row.integration_id, row.runs])).toEqual([
      [integration, 6],
      [otherIntegration.integrationId, 1],
    ]);
    expect(usage.by_day.map((row) => [row.day, row.runs, row.p50_ms])).toEqual([
      ['2025-11-20', 4, 25],
      ['2025-11-21', 3, 30],
    ]);

    const foreignUsage = await audit.service.bus.request(Subjects.audit.usageGet, {
      projectId: foreign.projectId,
      from: '2025-11-20T00:00:00Z',
      to: '2025-11-22T00:00:00Z',
    });
    expect(foreignUsage.totals.runs).toBe(1);
    const nobody = await audit.service.bus.request(Subjects.audit.usageGet, {
      projectId: randomUUID(),
      from: '2025-11-20T00:00:00Z',
      to: '2025-11-22T00:00:00Z',
    });
    expect(nobody.totals).toEqual(expect.objectContaining({ runs: 0, error_rate: null }));
    expect([nobody.by_tool, nobody.by_member, nobody.by_integration, nobody.by_day]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });
});
