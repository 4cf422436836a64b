import { Subjects } from '@tengine/contracts';
import { InProcessBroker, InProcessTransport, MessageBus } from '@tengine/messaging';
import type { RunningService } from '@tengine/runtime';
import { createTestDatabase, waitUntil, type TestDatabase } from '@tengine/testing';

import { startEmbeddedAudit } from '../support/audit-harness.js';
import { RunEventsConsumer } from '../../src/ingest/run-events.consumer.js';
import { runEvent, runOwner, runPair } from '../support/run-events.js';

describe('audit in embedded mode (no JetStream)', () => {
  let database: TestDatabase;
  let audit: RunningService;
  let consumer: RunEventsConsumer;
  let executor: MessageBus;
  const broker = new InProcessBroker();

  beforeAll(async () => {
    database = await createTestDatabase();
    audit = await startEmbeddedAudit(database.url, broker);
    consumer = audit.app.get(RunEventsConsumer);
    executor = new MessageBus(new InProcessTransport(broker), 5_000);
  });

  afterAll(async () => {
    await executor?.close();
    await audit?.close();
    await database?.drop();
  });

  const statusOf = async (runId: string): Promise<string | undefined> => {
    const rows = await audit.dataSource.query<Array<{ status: string }>>(
      'SELECT status FROM audit.runs WHERE run_id = $1',
      [runId],
    );
    return rows[0]?.status;
  };

  it('should consume the executor’s in-process run events', async () => {
    expect(consumer.transport).toBe('bus');
    expect(consumer.streamName).toBeNull();
    const owner = runOwner();
    const [started, succeeded] = runPair('succeeded', owner);
    executor.publish(Subjects.executor.runStarted, started);
    await waitUntil(async () => (await statusOf(started.runId)) === 'running', 5_000, 20);
    executor.publish(Subjects.executor.runCompleted, succeeded);
    await waitUntil(async () => (await statusOf(started.runId)) === 'succeeded', 5_000, 20);
    // Duplicates and a late `started` change nothing.
    executor.publish(Subjects.executor.runCompleted, succeeded);
    executor.publish(Subjects.executor.runStarted, started);
    await waitUntil(() => Promise.resolve(consumer.stats().ignored >= 2), 5_000, 20);
    expect(await statusOf(started.runId)).toBe('succeeded');
    const rows = await audit.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM audit.runs WHERE project_id = $1',
      [owner.projectId],
    );
    expect(rows[0]?.count).toBe(1);
  });

  it('should park an in-process event that fails its contract', async () => {
    const parkedBefore = consumer.stats().parked;
    broker.publish(Subjects.executor.runCompleted, { ...runEvent('failed'), runId: 'bad' }, {});
    await waitUntil(() => Promise.resolve(consumer.stats().parked > parkedBefore), 5_000, 20);
    const parked = await audit.dataSource.query<
      Array<{ source: string; subject: string; reason: string; stream: string | null }>
    >('SELECT source, subject, reason, stream FROM audit.parked_events');
    expect(parked).toEqual([
      expect.objectContaining({
        source: 'bus',
        subject: Subjects.executor.runCompleted,
        stream: null,
        reason: expect.stringContaining('runId') as string,
      }),
    ]);
  });
});
