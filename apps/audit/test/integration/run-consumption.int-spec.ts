import type { RunEvent } from '@tengine/contracts';

import { RunIngestor, type RunDelivery } from '../../src/ingest/run-ingestor.js';
import { count, startHarness, type AuditHarness } from '../support/audit-harness.js';
import { runEvent, runOwner, runPair, type RunOwner } from '../support/run-events.js';

describe('audit consumption of the runs stream', () => {
  let harness: AuditHarness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  const runsOf = (owner: RunOwner) =>
    count(harness.sql, 'SELECT count(*)::int AS count FROM audit.runs WHERE project_id = $1', [
      owner.projectId,
    ]);

  const terminalRunsOf = (owner: RunOwner) =>
    count(
      harness.sql,
      `SELECT count(*)::int AS count FROM audit.runs WHERE project_id = $1 AND status <> 'running'`,
      [owner.projectId],
    );

  async function rowOf(runId: string) {
    const result = await harness.sql.query<{
      status: string;
      finished_at: Date | null;
      duration_ms: number | null;
      last_event: string;
    }>('SELECT status, finished_at, duration_ms, last_event FROM audit.runs WHERE run_id = $1', [
      runId,
    ]);
    return result.rows[0];
  }

  async function publishAll(events: readonly RunEvent[]): Promise<void> {
    for (const event of events) await harness.publish(event);
  }

  it('should store each Run once, terminal, however often its events are duplicated', async () => {
    const audit = await harness.startAudit();
    const owner = runOwner();
    const pairs = Array.from({ length: 40 }, (_, index) =>
      runPair(index % 4 === 0 ? 'failed' : 'succeeded', owner),
    );
    const events = pairs.flat();
    await publishAll(events);
    // Past JetStream's duplicate window (other message ids): the same events again, twice, reversed.
    for (const round of [1, 2]) {
      for (const event of [...events].reverse()) {
        await harness.publish(event, { msgId: `${event.runId}.${event.event}.again-${round}` });
      }
    }
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 40);
    await harness.eventually(
      () => audit.consumer.stats().applied + audit.consumer.stats().ignored >= 240,
    );
    expect(await runsOf(owner)).toBe(40);
    const statuses = await harness.sql.query<{ status: string; count: number }>(
      `SELECT status, count(*)::int AS count FROM audit.runs WHERE project_id = $1 GROUP BY status ORDER BY status`,
      [owner.projectId],
    );
    expect(statuses.rows).toEqual([
      { status: 'failed', count: 10 },
      { status: 'succeeded', count: 30 },
    ]);
    const [started, failed] = pairs[0] as [RunEvent, RunEvent];
    expect(await rowOf(started.runId)).toEqual({
      status: 'failed',
      finished_at: new Date(failed.timings.finishedAt ?? ''),
      duration_ms: 42,
      last_event: 'failed',
    });
    await audit.close();
  });

  it('should never move a Run backwards: started after succeeded is ignored', async () => {
    const audit = await harness.startAudit();
    const owner = runOwner();
    const [started, succeeded] = runPair('succeeded', owner);
    await harness.publish(succeeded);
    await harness.eventually(async () => (await rowOf(succeeded.runId))?.status === 'succeeded');
    const ignoredBefore = audit.consumer.stats().ignored;
    await harness.publish(started);
    await harness.eventually(() => audit.consumer.stats().ignored > ignoredBefore);
    expect(await rowOf(succeeded.runId)).toEqual(
      expect.objectContaining({ status: 'succeeded', last_event: 'succeeded', duration_ms: 42 }),
    );
    // A second, different outcome for the same Run does not overwrite the first either.
    await harness.publish({ ...succeeded, event: 'failed', status: 'failed' });
    await harness.eventually(() => audit.consumer.stats().ignored > ignoredBefore + 1);
    expect((await rowOf(succeeded.runId))?.status).toBe('succeeded');
    await audit.close();
  });

  it('should park poison events with their reason, acknowledge them and go on', async () => {
    const audit = await harness.startAudit();
    const owner = runOwner();
    const other = runOwner();
    const parkedBefore = audit.consumer.stats().parked;
    await harness.publishRaw(harness.subject(owner.projectId, 'started'), '{"event":');
    await harness.publishRaw(
      harness.subject(owner.projectId, 'started'),
      JSON.stringify({ event: 'started', runId: 'nope' }),
    );
    // A valid event of one project filed under another project's subject.
    const foreign = runEvent('succeeded', {}, other);
    await harness.publish(foreign, { subject: harness.subject(owner.projectId, 'succeeded') });
    // PostgreSQL refuses NUL characters: valid JSON and schema, unstorable data.
    const unstorable = runEvent('succeeded', { memberExternalId: 'a\u0000b' }, owner);
    await harness.publish(unstorable);
    const [, fine] = runPair('succeeded', owner);
    await harness.publish(fine);

    await harness.eventually(async () => (await rowOf(fine.runId))?.status === 'succeeded');
    await harness.eventually(() => audit.consumer.stats().parked >= parkedBefore + 4);
    const parked = await harness.sql.query<{
      subject: string;
      reason: string;
      payload: string | null;
      stream: string;
    }>(
      `SELECT subject, reason, payload, stream FROM audit.parked_events
       WHERE subject LIKE $1 ORDER BY stream_sequence`,
      [`%${owner.projectId}%`],
    );
    expect(parked.rows.map((row) => row.reason)).toEqual([
      expect.stringMatching(/^undecodable: payload is not JSON/),
      expect.stringMatching(/^invalid run event: runId/),
      expect.stringMatching(/^subject mismatch: event of project/),
      expect.stringMatching(/^rejected by PostgreSQL \(22P05\)/),
    ]);
    expect(parked.rows[0]).toEqual(
      expect.objectContaining({ payload: '{"event":', stream: harness.stream }),
    );
    expect(await runsOf(other)).toBe(0);
    expect(await rowOf(unstorable.runId)).toBeUndefined();
    const consumer = await harness.jsm.consumers.info(harness.stream, harness.consumerName);
    await harness.eventually(async () => {
      const info = await harness.jsm.consumers.info(harness.stream, harness.consumerName);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(consumer.config.ack_policy).toBe('explicit');
    expect(consumer.config.max_ack_pending).toBe(1_000);
    await audit.close();
  });

  it('should redeliver events the database could not take and store them once it can', async () => {
    const audit = await harness.startAudit();
    const owner = runOwner();
    const retriedBefore = audit.consumer.stats().retried;
    await harness.sql.query('ALTER TABLE audit.runs RENAME TO runs_away');
    try {
      await publishAll(runPair('succeeded', owner));
      await harness.eventually(() => audit.consumer.stats().retried > retriedBefore);
    } finally {
      await harness.sql.query('ALTER TABLE audit.runs_away RENAME TO runs');
    }
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 1);
    expect(await runsOf(owner)).toBe(1);
    await audit.close();
  });

  it('should catch up on everything published while audit was stopped', async () => {
    const owner = runOwner();
    const first = await harness.startAudit();
    await publishAll(runPair('succeeded', owner));
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 1);
    await first.close();

    await publishAll(Array.from({ length: 100 }, () => runPair('succeeded', owner)).flat());
    expect(await runsOf(owner)).toBe(1);

    const second = await harness.startAudit();
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 101);
    expect(await runsOf(owner)).toBe(101);
    await second.close();
  });

  it('should share the consumer between two replicas without duplicates', async () => {
    const settings = { AUDIT_BATCH_SIZE: '10', AUDIT_BATCH_LINGER_MS: '5' };
    const one = await harness.startAudit(settings);
    const two = await harness.startAudit(settings);
    const before = [one, two].map((replica) => replica.consumer.stats());
    const owner = runOwner();
    await Promise.all(
      Array.from({ length: 300 }, () => runPair('succeeded', owner)).map((pair) =>
        publishAll(pair),
      ),
    );
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 300, 30_000);
    expect(await runsOf(owner)).toBe(300);
    const handled = [one, two].map((replica, index) => {
      const now = replica.consumer.stats();
      const earlier = before[index] ?? now;
      return now.applied + now.ignored - earlier.applied - earlier.ignored;
    });
    // Both replicas pulled work, and together they handled each event exactly once.
    expect(handled.every((amount) => amount > 0)).toBe(true);
    expect((handled[0] ?? 0) + (handled[1] ?? 0)).toBe(600);
    await one.close();
    await two.close();
  });

  it('should create no duplicate when a replica dies after writing but before acknowledging', async () => {
    const fast = { AUDIT_ACK_WAIT_MS: '1000' };
    const doomed = await harness.startAudit(fast);
    const ingestor = doomed.service.app.get(RunIngestor);
    const original = ingestor.ingest.bind(ingestor);
    // Commits, then "crashes": its acknowledgements never reach JetStream.
    jest
      .spyOn(ingestor, 'ingest')
      .mockImplementation((deliveries: readonly RunDelivery[]) =>
        original(deliveries.map((delivery) => ({ ...delivery, ack: () => undefined }))),
      );
    const owner = runOwner();
    await publishAll(Array.from({ length: 20 }, () => runPair('succeeded', owner)).flat());
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 20);
    await doomed.close();

    const survivor = await harness.startAudit(fast);
    await harness.eventually(async () => {
      const info = await harness.jsm.consumers.info(harness.stream, harness.consumerName);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, 30_000);
    expect(survivor.consumer.stats().ignored).toBeGreaterThanOrEqual(40);
    expect(await runsOf(owner)).toBe(20);
    expect(await terminalRunsOf(owner)).toBe(20);
    await survivor.close();
  });

  it('should bind again when the stream is deleted and recreated', async () => {
    const audit = await harness.startAudit();
    const info = await harness.jsm.streams.info(harness.stream);
    await harness.jsm.streams.delete(harness.stream);
    await harness.jsm.streams.add(info.config);
    const owner = runOwner();
    await publishAll(runPair('succeeded', owner));
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 1, 30_000);
    expect(audit.logs.text()).toContain('runs consumer lost; binding it again');
    await audit.close();
  });

  it('should store exactly 10,000 Runs from 20,000 events, counts per status matching', async () => {
    const one = await harness.startAudit();
    const two = await harness.startAudit();
    const owner = runOwner();
    const outcomes = ['succeeded', 'failed', 'indeterminate', 'rejected'] as const;
    const pairs = Array.from({ length: 10_000 }, (_, index) =>
      runPair(
        outcomes[index % 7 === 0 ? 1 : index % 13 === 0 ? 2 : index % 17 === 0 ? 3 : 0] ??
          'succeeded',
        owner,
      ),
    );
    const expected = new Map<string, number>();
    for (const [, ended] of pairs)
      expected.set(ended.status, (expected.get(ended.status) ?? 0) + 1);
    for (let start = 0; start < pairs.length; start += 500) {
      await Promise.all(pairs.slice(start, start + 500).map((pair) => publishAll(pair)));
    }
    await harness.eventually(async () => (await terminalRunsOf(owner)) === 10_000, 60_000);
    const statuses = await harness.sql.query<{ status: string; count: number }>(
      `SELECT status, count(*)::int AS count FROM audit.runs WHERE project_id = $1 GROUP BY status`,
      [owner.projectId],
    );
    expect(new Map(statuses.rows.map((row) => [row.status, row.count]))).toEqual(expected);
    expect(await runsOf(owner)).toBe(10_000);
    await one.close();
    await two.close();
  }, 120_000);
});
