import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import pg from 'pg';

import { RunsStream, type RunEvent } from '@tengine/contracts';
import type { InProcessBroker } from '@tengine/messaging';
import { startBackendService, type RunningService } from '@tengine/runtime';
import {
  captureLogger,
  createTestDatabase,
  TEST_NATS_URL,
  testSubjectPrefix,
  uniqueName,
  waitUntil,
  type CapturedLogger,
  type TestDatabase,
} from '@tengine/testing';

import { auditService } from '../../src/audit.definition.js';
import { RunEventsConsumer } from '../../src/ingest/run-events.consumer.js';

/** A started audit replica and what tests look at. */
export interface AuditReplica {
  readonly service: RunningService;
  readonly consumer: RunEventsConsumer;
  readonly logs: CapturedLogger;
  close(): Promise<void>;
}

/**
 * One suite's world: its own database, subject prefix, runs stream (created here the way the
 * executor creates it) and durable consumer name, all removed by `close()`.
 */
export interface AuditHarness {
  readonly database: TestDatabase;
  /** Subject prefix without the trailing dot, as NATS_SUBJECT_PREFIX is set. */
  readonly prefix: string;
  readonly stream: string;
  readonly consumerName: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** A direct connection to the suite's database. */
  readonly sql: pg.Pool;
  startAudit(environment?: Record<string, string>): Promise<AuditReplica>;
  /** Publishes a Run event the way the executor does: subject, `Nats-Msg-Id`, optional headers. */
  publish(
    event: RunEvent,
    options?: { msgId?: string; subject?: string; traceparent?: string },
  ): Promise<PubAck>;
  publishRaw(subject: string, data: string | Uint8Array): Promise<PubAck>;
  /** The subject of a project's events in this suite's namespace. */
  subject(projectId: string, event: RunEvent['event']): string;
  /** Waits until `probe` holds (polling), failing after `timeoutMs`. */
  eventually(probe: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<AuditHarness> {
  const database = await createTestDatabase();
  const prefix = testSubjectPrefix();
  const linkPrefix = `${prefix}.`;
  const stream = RunsStream.name(linkPrefix);
  const consumerName = uniqueName('audit');
  const nc = await connect({ servers: TEST_NATS_URL, name: 'audit-test' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream,
    subjects: [RunsStream.filter(linkPrefix)],
    storage: StorageType.File,
    duplicate_window: 120_000_000_000,
  });
  const js = jetstream(nc);
  const sql = new pg.Pool({ connectionString: database.url, max: 4 });
  const replicas = new Set<AuditReplica>();

  const startAudit = async (environment: Record<string, string> = {}): Promise<AuditReplica> => {
    const logs = captureLogger('audit', 'debug');
    const service = await startBackendService(auditService, {
      transport: { kind: 'nats', url: TEST_NATS_URL, subjectPrefix: prefix },
      databaseUrl: database.url,
      runMigrations: true,
      httpPort: null,
      logger: logs.logger,
      rpcTimeoutMs: 5_000,
      environment: { AUDIT_CONSUMER_NAME: consumerName, ...environment },
    });
    const consumer = service.app.get(RunEventsConsumer);
    await consumer.ready();
    const replica: AuditReplica = {
      service,
      consumer,
      logs,
      close: async () => {
        if (!replicas.delete(replica)) return;
        await service.close();
      },
    };
    replicas.add(replica);
    return replica;
  };

  return {
    database,
    prefix,
    stream,
    consumerName,
    nc,
    js,
    jsm,
    sql,
    startAudit,
    subject: (projectId, event) => RunsStream.subject(linkPrefix, projectId, event),
    publish: (event, options = {}) => {
      const headers = natsHeaders();
      if (options.traceparent) headers.set('traceparent', options.traceparent);
      return js.publish(
        options.subject ?? RunsStream.subject(linkPrefix, event.projectId, event.event),
        JSON.stringify(event),
        { msgID: options.msgId ?? RunsStream.messageId(event.runId, event.event), headers },
      );
    },
    publishRaw: (subject, data) => js.publish(subject, data),
    eventually: async (probe, timeoutMs = 20_000) => {
      await waitUntil(() => Promise.resolve(probe()), timeoutMs, 50);
    },
    close: async () => {
      for (const replica of [...replicas]) await replica.close();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      await sql.end();
      await database.drop();
    },
  };
}

/** How many rows `sql` counts (a `SELECT count(*)::int AS count …`). */
export async function count(
  pool: pg.Pool,
  query: string,
  parameters: unknown[] = [],
): Promise<number> {
  const result = await pool.query<{ count: number }>(query, parameters);
  return result.rows[0]?.count ?? 0;
}

/** Audit on an in-process broker (embedded mode, no JetStream) over the given database. */
export function startEmbeddedAudit(
  databaseUrl: string,
  broker: InProcessBroker,
  environment: Record<string, string> = {},
): Promise<RunningService> {
  return startBackendService(auditService, {
    transport: { kind: 'in-process', broker },
    databaseUrl,
    runMigrations: true,
    httpPort: null,
    logger: captureLogger('audit', 'warn').logger,
    rpcTimeoutMs: 5_000,
    environment,
  });
}
