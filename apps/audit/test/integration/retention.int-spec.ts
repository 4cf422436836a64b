import pg from 'pg';

import { Subjects } from '@tengine/contracts';
import { InProcessBroker, InProcessTransport, MessageBus } from '@tengine/messaging';
import type { RunningService } from '@tengine/runtime';
import { createTestDatabase, waitUntil, type TestDatabase } from '@tengine/testing';

import { RunEventsConsumer } from '../../src/ingest/run-events.consumer.js';
import { RetentionService } from '../../src/index.js';
import { startEmbeddedAudit } from '../support/audit-harness.js';
import { runOwner, runPair } from '../support/run-events.js';

const DAY_MS = 86_400_000;

describe('retention of runs', () => {
  let database: TestDatabase;
  let audit: RunningService;
  let retention: RetentionService;
  let other: pg.Client;
  const broker = new InProcessBroker();

  beforeAll(async () => {
    database = await createTestDatabase();
    audit = await startEmbeddedAudit(database.url, broker, {
      AUDIT_RETENTION_DAYS: '30',
      AUDIT_RETENTION_BATCH_SIZE: '7',
    });
    retention = audit.app.get(RetentionService);
    other = new pg.Client({ connectionString: database.url });
    await other.connect();
  });

  afterAll(async () => {
    await other?.end();
    await audit?.close();
    await database?.drop();
  });

  async function seed(projectId: string, ageDays: number, amount: number): Promise<void> {
    await audit.dataSource.query(
      `INSERT INTO audit.runs (run_id, project_id, integration_id, api_key_id, principal_kind,
         tool_name, tool_version, status, attempts, replayed, idempotency_key, started_at,
         executor, last_event)
       SELECT $1 || '-' || g, $2, $2, 'key', 'api_key', 'tool', 1, 'succeeded', 1, false,
              'idem-' || g, now() - make_interval(days => $3), 'seed', 'succeeded'
       FROM generate_series(1, $4) AS g`,
      [`age${ageDays}`, projectId, ageDays, amount],
    );
  }

  const remaining = async (projectId: string): Promise<number> => {
    const rows = await audit.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM audit.runs WHERE project_id = $1',
      [projectId],
    );
    return rows[0]?.count ?? 0;
  };

  it('should delete runs past retention in batches, skipping rows a writer holds', async () => {
    const owner = runOwner();
    await seed(owner.projectId, 45, 25);
    await seed(owner.projectId, 5, 4);
    await audit.dataSource.query(
      `INSERT INTO audit.parked_events (source, subject, delivery_count, reason, parked_at)
       VALUES ('bus', 's', 1, 'old', now() - interval '40 days'), ('bus', 's', 1, 'new', now())`,
    );
    // A writer holds one old row: the sweep goes around it instead of waiting.
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM audit.runs WHERE run_id = 'age45-1' FOR UPDATE`);
    const first = await retention.sweep();
    await other.query('COMMIT');
    expect(first).toEqual({ runs: 24, parkedEvents: 1, skipped: false });
    expect(await remaining(owner.projectId)).toBe(5);
    expect(await retention.sweep()).toEqual({ runs: 1, parkedEvents: 0, skipped: false });
    expect(await remaining(owner.projectId)).toBe(4);
  });

  it('should leave the sweep to the replica holding the lock', async () => {
    await other.query('SELECT pg_advisory_lock(7311402651340719131)');
    try {
      expect(await retention.sweep()).toEqual({ runs: 0, parkedEvents: 0, skipped: true });
    } finally {
      await other.query('SELECT pg_advisory_unlock(7311402651340719131)');
    }
  });

  it('should not write back a run that is already past retention', async () => {
    const consumer = audit.app.get(RunEventsConsumer);
    const executor = new MessageBus(new InProcessTransport(broker), 1_000);
    const owner = runOwner();
    const [, old] = runPair('succeeded', owner, {
      startedAt: new Date(Date.now() - 31 * DAY_MS).toISOString(),
    });
    const [, recent] = runPair('succeeded', owner);
    const before = consumer.stats();
    executor.publish(Subjects.executor.runCompleted, old);
    executor.publish(Subjects.executor.runCompleted, recent);
    await waitUntil(async () => (await remaining(owner.projectId)) === 1, 5_000, 20);
    await waitUntil(() => Promise.resolve(consumer.stats().ignored > before.ignored), 5_000, 20);
    const rows = await audit.dataSource.query<Array<{ run_id: string }>>(
      'SELECT run_id FROM audit.runs WHERE project_id = $1',
      [owner.projectId],
    );
    expect(rows).toEqual([{ run_id: recent.runId }]);
    await executor.close();
  });
});
