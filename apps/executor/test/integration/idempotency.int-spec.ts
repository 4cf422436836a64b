import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { ulid } from 'ulid';

import { RunsStream, Subjects, type RunEvent, type Tool } from '@tengine/contracts';
import { InProcessBroker } from '@tengine/messaging';
// Tests run the real registry for tool definitions (allowed in tests; apps never import apps).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { registryService } from '@tengine/registry';
import { startBackendService, type RunningService } from '@tengine/runtime';
import { captureLogger, waitUntil } from '@tengine/testing';

import { callFingerprint } from '../../src/execution/call-fingerprint.js';
import { principalKey } from '../../src/execution/run-executor.service.js';
import { executorService } from '../../src/executor.definition.js';
import { startedEvent } from '../../src/runs/run-events.js';
import {
  executorHarness,
  FAST_EXECUTOR_ENV,
  json,
  principalFor,
  secretKey,
  TestUpstream,
  type ExecutorHarness,
} from './harness.js';

describe('executor idempotency ledger and run log', () => {
  let harness: ExecutorHarness;
  let upstream: TestUpstream;
  let executor: RunningService;
  /** Effects the API applied, per Idempotency-Key header (what a real API would de-duplicate on). */
  const effects = new Map<string, number>();

  beforeAll(async () => {
    upstream = await TestUpstream.start();
    harness = await executorHarness({ TENGINE_EGRESS_ALLOW: '127.0.0.1/32' });
    executor = await harness.startExecutor();
  });

  afterAll(async () => {
    await harness?.close();
    await upstream?.close();
  });

  beforeEach(() => {
    upstream.handler = async (request, response) => {
      const key = String(request.headers['idempotency-key']);
      effects.set(key, (effects.get(key) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 150));
      json(response, 201, { charged: true, n: effects.get(key) });
    };
  });

  let counter = 0;
  async function postTool(
    overrides: Parameters<ExecutorHarness['createTool']>[0] | object = {},
  ): Promise<Tool> {
    counter += 1;
    return harness.createTool({
      name: `charge_${counter}`,
      method: 'POST',
      base_url: upstream.url(),
      endpoint_path: `/charge/${counter}`,
      body_template: { amount: '{{amount}}' },
      ...overrides,
    });
  }

  function effectsAt(path: string): number {
    return upstream.received(path).length;
  }

  it('should replay a completed call for the same key and arguments, without calling the API again', async () => {
    const tool = await postTool();
    const first = await harness.execute(tool, { amount: 5 }, { idempotencyKey: 'order-1' });
    const second = await harness.execute(tool, { amount: 5 }, { idempotencyKey: 'order-1' });
    const third = await harness.execute(tool, { amount: 5 }, { idempotencyKey: 'order-1' });
    expect(first).toMatchObject({ status: 'succeeded', replayed: false, attempts: 1 });
    for (const replay of [second, third]) {
      expect(replay).toMatchObject({
        status: 'succeeded',
        replayed: true,
        attempts: 0,
        replayedFromRunId: first.runId,
        upstream: first.upstream,
      });
      expect(replay.runId).not.toBe(first.runId);
    }
    expect(effectsAt(`/charge/${counter}`)).toBe(1);
  });

  it('should produce exactly one upstream effect for 50 concurrent calls with one key', async () => {
    const tool = await postTool();
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        harness.execute(tool, { amount: 7 }, { idempotencyKey: 'burst-1' }),
      ),
    );
    expect(effectsAt(`/charge/${counter}`)).toBe(1);
    const executed = replies.filter((reply) => reply.status === 'succeeded' && !reply.replayed);
    expect(executed).toHaveLength(1);
    for (const reply of replies) {
      if (reply === executed[0]) continue;
      if (reply.replayed) expect(reply.replayedFromRunId).toBe(executed[0]?.runId);
      else {
        expect(reply).toMatchObject({
          status: 'rejected',
          error: { code: 'EXECUTOR_IDEMPOTENCY_IN_PROGRESS', status: 409 },
        });
      }
    }
    // Once the first finished, the same key replays.
    await expect(
      harness.execute(tool, { amount: 7 }, { idempotencyKey: 'burst-1' }),
    ).resolves.toMatchObject({ replayed: true, status: 'succeeded' });
    expect(effectsAt(`/charge/${counter}`)).toBe(1);
  });

  it('should refuse the same key with different arguments (422)', async () => {
    const tool = await postTool();
    await harness.execute(tool, { amount: 1 }, { idempotencyKey: 'order-2' });
    await expect(
      harness.execute(tool, { amount: 2 }, { idempotencyKey: 'order-2' }),
    ).resolves.toMatchObject({
      status: 'rejected',
      error: { code: 'EXECUTOR_IDEMPOTENCY_KEY_REUSED', status: 422 },
    });
    expect(effectsAt(`/charge/${counter}`)).toBe(1);
  });

  it('should scope keys to the principal: two members never share a result', async () => {
    const tool = await postTool();
    const alice = principalFor(harness.projectId, { externalId: 'alice' });
    const bob = principalFor(harness.projectId, { externalId: 'bob' });
    const fromAlice = await harness.execute(
      tool,
      { amount: 3 },
      { idempotencyKey: 'same', principal: alice },
    );
    const fromBob = await harness.execute(
      tool,
      { amount: 3 },
      { idempotencyKey: 'same', principal: bob },
    );
    expect([fromAlice.replayed, fromBob.replayed]).toEqual([false, false]);
    const keys = upstream
      .received(`/charge/${counter}`)
      .map((request) => request.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(2);
  });

  it('should replay a definite failure but release the key when the API did not process the call', async () => {
    const tool = await postTool();
    upstream.handler = (_request, response) => json(response, 500, { error: 'boom' });
    await harness.execute(tool, { amount: 1 }, { idempotencyKey: 'f-500' });
    await expect(
      harness.execute(tool, { amount: 1 }, { idempotencyKey: 'f-500' }),
    ).resolves.toMatchObject({ replayed: true, status: 'failed', error: { upstreamStatus: 500 } });
    expect(effectsAt(`/charge/${counter}`)).toBe(1);

    upstream.handler = (_request, response) => json(response, 503, { error: 'busy' });
    await harness.execute(tool, { amount: 2 }, { idempotencyKey: 'f-503' });
    upstream.handler = (_request, response) => json(response, 201, { ok: true });
    await expect(
      harness.execute(tool, { amount: 2 }, { idempotencyKey: 'f-503' }),
    ).resolves.toMatchObject({ replayed: false, status: 'succeeded' });
  });

  /** Writes the claim an executor that died mid-call would have left behind. */
  async function abandonedClaim(
    tool: Tool,
    args: Record<string, unknown>,
    key: string,
  ): Promise<string> {
    const principal = principalFor(harness.projectId);
    const runId = ulid();
    const context = startedEvent({
      runId,
      requestId: 1,
      principal,
      tool: { name: tool.name, version: tool.version, id: tool.id },
      method: tool.method,
      host: new URL(tool.base_url).host,
      idempotencyKey: key,
      traceId: null,
      executor: 'dead-replica:1',
      startedAt: new Date(Date.now() - 60_000),
    });
    await executor.dataSource.query(
      `INSERT INTO executor.idempotency_keys
         (project_id, principal, idempotency_key, fingerprint, state, run_id, retry_safe,
          run_context, lease_until, expires_at)
       VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7, now() - interval '1 second', now() + interval '1 day')`,
      [
        harness.projectId,
        principalKey(principal),
        key,
        callFingerprint(tool.name, args as Record<string, never>),
        runId,
        tool.method !== 'POST',
        JSON.stringify(context),
      ],
    );
    return runId;
  }

  async function eventsOf(runId: string): Promise<RunEvent[]> {
    return (await harness.runEvents()).filter((event) => event.runId === runId);
  }

  it('should end a call abandoned by a dead executor as indeterminate, never repeating a write', async () => {
    const tool = await postTool();
    const deadRun = await abandonedClaim(tool, { amount: 9 }, 'dead-1');
    const reply = await harness.execute(tool, { amount: 9 }, { idempotencyKey: 'dead-1' });
    expect(reply).toMatchObject({
      status: 'indeterminate',
      replayed: true,
      replayedFromRunId: deadRun,
      error: { code: 'EXECUTOR_RUN_INTERRUPTED' },
    });
    expect(effectsAt(`/charge/${counter}`)).toBe(0);
    expect((await eventsOf(deadRun)).map((event) => event.event)).toEqual(['indeterminate']);
  });

  it('should complete an abandoned read by executing it again', async () => {
    const tool = await harness.createTool({
      name: 'read_after_crash',
      base_url: upstream.url(),
      endpoint_path: '/read-after-crash',
    });
    const deadRun = await abandonedClaim(tool, {}, 'dead-2');
    const reply = await harness.execute(tool, {}, { idempotencyKey: 'dead-2' });
    expect(reply).toMatchObject({ status: 'succeeded', replayed: false });
    expect(upstream.received('/read-after-crash')).toHaveLength(1);
    expect((await eventsOf(deadRun)).map((event) => event.event)).toEqual(['indeterminate']);
  });

  it('should end abandoned Runs on its own, and republish unacknowledged events exactly once', async () => {
    const tool = await postTool();
    const deadRun = await abandonedClaim(tool, { amount: 1 }, 'dead-3');
    await waitUntil(async () => (await eventsOf(deadRun)).length === 1, 5_000);
    // Pretend the run log never acknowledged that terminal event: maintenance publishes it again,
    // and JetStream drops the copy by its Nats-Msg-Id.
    await executor.dataSource.query(
      `UPDATE executor.idempotency_keys SET terminal_published = false, updated_at = now() - interval '1 hour'
       WHERE run_id = $1`,
      [deadRun],
    );
    await waitUntil(async () => {
      const rows = await executor.dataSource.query<Array<{ terminal_published: boolean }>>(
        'SELECT terminal_published FROM executor.idempotency_keys WHERE run_id = $1',
        [deadRun],
      );
      return rows[0]?.terminal_published === true;
    }, 5_000);
    expect(await eventsOf(deadRun)).toHaveLength(1);
  });

  it('should publish events with Nats-Msg-Id so a second publish is a duplicate', async () => {
    const tool = await postTool();
    const reply = await harness.execute(tool, { amount: 4 });
    const events = await eventsOf(reply.runId);
    expect(events.map((event) => event.event)).toEqual(['started', 'succeeded']);
    const terminal = events[1] as RunEvent;
    const ack = await jetstream(harness.nats).publish(
      RunsStream.subject(harness.subjectPrefix, harness.projectId, 'succeeded'),
      JSON.stringify(terminal),
      { msgID: RunsStream.messageId(reply.runId, 'succeeded') },
    );
    expect(ack.duplicate).toBe(true);
    expect(ack.stream).toBe(RunsStream.name(harness.subjectPrefix));
    expect(await eventsOf(reply.runId)).toHaveLength(2);
  });

  it('should call nothing while the run log refuses events, and execute the same key once it is back', async () => {
    const tool = await postTool();
    // The stream exists once a first event went out.
    await harness.execute(tool, { amount: 3 }, { idempotencyKey: 'before-down' });
    const manager = await jetstreamManager(harness.nats);
    const stream = RunsStream.name(harness.subjectPrefix);
    const { state } = await manager.streams.info(stream);
    // A full stream that discards new messages refuses every publish.
    await manager.streams.update(stream, { max_msgs: state.messages, discard: DiscardPolicy.New });
    try {
      await expect(
        harness.execute(tool, { amount: 3 }, { idempotencyKey: 'while-down' }),
      ).rejects.toMatchObject({ code: 'EXECUTOR_RUN_NOT_RECORDED' });
      expect(effectsAt(`/charge/${counter}`)).toBe(1);
    } finally {
      await manager.streams.update(stream, { max_msgs: -1, discard: DiscardPolicy.Old });
    }
    await expect(
      harness.execute(tool, { amount: 3 }, { idempotencyKey: 'while-down' }),
    ).resolves.toMatchObject({ status: 'succeeded', replayed: false });
    expect(effectsAt(`/charge/${counter}`)).toBe(2);
  });

  it('should send nothing and record a failed Run when the ledger cannot take the claim', async () => {
    const tool = await postTool();
    const database = new pg.Client({ connectionString: harness.database.url });
    await database.connect();
    // The ledger table is out of reach (as when PostgreSQL refuses): every claim fails.
    await database.query('ALTER TABLE executor.idempotency_keys RENAME TO idempotency_keys_away');
    let reply;
    try {
      reply = await harness.execute(tool, { amount: 9 }, { idempotencyKey: 'ledger-down' });
    } finally {
      await database.query('ALTER TABLE executor.idempotency_keys_away RENAME TO idempotency_keys');
      await database.end();
    }
    expect(reply).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: { code: 'EXECUTOR_LEDGER_UNAVAILABLE', status: 503 },
    });
    expect(effectsAt(`/charge/${counter}`)).toBe(0);
    expect((await eventsOf(reply.runId)).map((event) => event.event)).toEqual(['failed']);
    // Nothing was sent, so the same key executes once the ledger is back.
    await expect(
      harness.execute(tool, { amount: 9 }, { idempotencyKey: 'ledger-down' }),
    ).resolves.toMatchObject({ status: 'succeeded', replayed: false });
    expect(effectsAt(`/charge/${counter}`)).toBe(1);
  });

  it('should purge ledger rows past their retention', async () => {
    await executor.dataSource.query(
      `UPDATE executor.idempotency_keys SET expires_at = now() - interval '1 second'
       WHERE idempotency_key = 'order-1'`,
    );
    await waitUntil(async () => {
      const rows = await executor.dataSource.query<unknown[]>(
        `SELECT 1 FROM executor.idempotency_keys WHERE idempotency_key = 'order-1'`,
      );
      return rows.length === 0;
    }, 5_000);
  });

  it('should publish Run events on the in-process bus in embedded mode', async () => {
    const broker = new InProcessBroker();
    const options = {
      transport: { kind: 'in-process' as const, broker },
      databaseUrl: harness.database.url,
      runMigrations: true,
      httpPort: null,
      rpcTimeoutMs: 10_000,
    };
    const registry = await startBackendService(registryService, {
      ...options,
      logger: captureLogger('registry', 'warn').logger,
      environment: { TENGINE_SECRET_KEYS: secretKey('k1'), TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1' },
    });
    const embedded = await startBackendService(executorService, {
      ...options,
      logger: captureLogger('executor', 'warn').logger,
      environment: { ...FAST_EXECUTOR_ENV, TENGINE_EGRESS_ALLOW: '127.0.0.1' },
    });
    try {
      const events: RunEvent[] = [];
      registry.bus.subscribe(Subjects.executor.runStarted, (event) => events.push(event));
      registry.bus.subscribe(Subjects.executor.runCompleted, (event) => events.push(event));
      const tool = await registry.bus.request(Subjects.registry.toolCreate, {
        projectId: harness.projectId,
        name: 'embedded_tool',
        description: '',
        method: 'GET',
        base_url: upstream.url(),
        endpoint_path: '/embedded',
        query_template: null,
        header_template: null,
        body_template: null,
        input_schema: { type: 'object' },
        auth_strategy: 'none',
        require_member: false,
        is_enabled: true,
        timeout_ms: 2_000,
        required_scope: null,
        annotations: {},
      });
      const runId = ulid();
      const reply = await registry.bus.request(Subjects.executor.runExecute, {
        runId,
        requestId: 'r-1',
        principal: principalFor(harness.projectId),
        tool: { name: tool.name, version: tool.version },
        arguments: {},
        idempotencyKey: runId,
      });
      expect(reply.status).toBe('succeeded');
      await waitUntil(() => Promise.resolve(events.length === 2), 2_000);
      expect(events.map((event) => [event.runId, event.event])).toEqual([
        [runId, 'started'],
        [runId, 'succeeded'],
      ]);
    } finally {
      await embedded.close();
      await registry.close();
    }
  });
});
