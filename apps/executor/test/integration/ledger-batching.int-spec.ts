import type { DataSource } from 'typeorm';

import type { ExecuteRunReply, RunEvent } from '@tengine/contracts';
import { openDataSource } from '@tengine/persistence';
import { createTestDatabase, type TestDatabase } from '@tengine/testing';

import { executorService } from '../../src/executor.definition.js';
import {
  IdempotencyLedgerRepository,
  type LedgerKey,
} from '../../src/ledger/idempotency-ledger.repository.js';

const PROJECT = '0b9e4f5e-4a6f-4a4c-9b1c-5d2f3c1a7e01';

function runContext(runId: string): RunEvent {
  return { runId, event: 'started', projectId: PROJECT } as unknown as RunEvent;
}

function reply(runId: string): ExecuteRunReply {
  return { runId, status: 'succeeded', attempts: 1, replayed: false, durationMs: 1 };
}

describe('idempotency ledger: concurrent calls share statements', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let ledger: IdempotencyLedgerRepository;
  let statements: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDataSource({
      ...executorService.schema,
      url: database.url,
      applicationName: 'ledger-batching-test',
      runMigrations: true,
    });
    ledger = new IdempotencyLedgerRepository(dataSource);
    const query = dataSource.query.bind(dataSource);
    // Counts the statements sent; every one still goes to PostgreSQL.
    jest.spyOn(dataSource, 'query').mockImplementation((...args) => {
      statements += 1;
      return query(...args);
    });
  });

  afterAll(async () => {
    await ledger?.onModuleDestroy();
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(() => {
    statements = 0;
  });

  const keyOf = (name: string): LedgerKey => ({
    projectId: PROJECT,
    principal: 'api_key:k1',
    idempotencyKey: name,
  });
  const claimOf = (runId: string) => ({
    fingerprint: 'f'.repeat(64),
    runId,
    retrySafe: false,
    runContext: runContext(runId),
    leaseMs: 60_000,
    retentionHours: 24,
  });

  it('should claim 60 distinct keys in a few statements, each claim answered for itself', async () => {
    const runIds = Array.from(
      { length: 60 },
      (_, index) => `RUN${String(index).padStart(23, '0')}`,
    );
    const owned = await Promise.all(
      runIds.map((runId, index) => ledger.claim(keyOf(`claim-${index}`), claimOf(runId))),
    );
    expect(owned).toEqual(runIds.map(() => true));
    expect(statements).toBeLessThanOrEqual(3);
    const rows = await dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM executor.idempotency_keys WHERE idempotency_key LIKE 'claim-%' AND state = 'in_flight'`,
    );
    expect(Number(rows[0]?.n)).toBe(60);
  });

  it('should give one key to one claim when the same key arrives many times at once', async () => {
    const runIds = Array.from(
      { length: 20 },
      (_, index) => `DUP${String(index).padStart(23, '0')}`,
    );
    const owned = await Promise.all(
      runIds.map((runId) => ledger.claim(keyOf('dup'), claimOf(runId))),
    );
    expect(owned.filter(Boolean)).toHaveLength(1);
    const [row] = await dataSource.query<Array<{ run_id: string }>>(
      `SELECT run_id FROM executor.idempotency_keys WHERE idempotency_key = 'dup'`,
    );
    expect(row?.run_id).toBe(runIds[owned.indexOf(true)]);
  });

  it('should complete and mark published in batches, refusing a completion by a run that does not own its key', async () => {
    const runIds = Array.from(
      { length: 30 },
      (_, index) => `CMP${String(index).padStart(23, '0')}`,
    );
    await Promise.all(
      runIds.map((runId, index) => ledger.claim(keyOf(`cmp-${index}`), claimOf(runId))),
    );
    statements = 0;
    const stored = await Promise.all(
      runIds.map((runId, index) =>
        ledger.complete(keyOf(`cmp-${index}`), index === 7 ? 'NOT-THE-OWNER-000000000000' : runId, {
          state: 'completed',
          result: reply(runId),
          terminalEvent: runContext(runId),
          retentionHours: 24,
        }),
      ),
    );
    expect(stored).toEqual(runIds.map((_, index) => index !== 7));
    // The run that lost its key publishes nothing (its terminal event is another replica's).
    await Promise.all(
      runIds.flatMap((runId, index) =>
        index === 7 ? [] : [ledger.markPublished(keyOf(`cmp-${index}`), runId)],
      ),
    );
    expect(statements).toBeLessThanOrEqual(6);
    const rows = await dataSource.query<
      Array<{ idempotency_key: string; state: string; terminal_published: boolean }>
    >(
      `SELECT idempotency_key, state, terminal_published FROM executor.idempotency_keys
       WHERE idempotency_key LIKE 'cmp-%' ORDER BY idempotency_key`,
    );
    for (const row of rows) {
      const owner = row.idempotency_key !== 'cmp-7';
      expect(row).toMatchObject(
        owner
          ? { state: 'completed', terminal_published: true }
          : { state: 'in_flight', terminal_published: false },
      );
    }
    const entry = await ledger.find(keyOf('cmp-3'));
    expect(entry?.result).toEqual(reply(runIds[3]!));
  });
});
