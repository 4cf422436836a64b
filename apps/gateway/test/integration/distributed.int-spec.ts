import { DomainError, Subjects } from '@tengine/contracts';
import { connectService } from '@tengine/runtime';

import type { PlatformStatus } from '../../src/index.js';
import {
  createTestDatabase,
  freePort,
  startApp,
  startPrivateNatsServer,
  testSubjectPrefix,
  waitUntil,
  type AppProcess,
  type PrivateNatsServer,
  type TestDatabase,
} from '@tengine/testing';

const BACKENDS = ['registry', 'identity', 'executor', 'audit'] as const;

async function statusOf(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  await response.arrayBuffer();
  return response.status;
}

describe('five services as separate processes', () => {
  let nats: PrivateNatsServer;
  let database: TestDatabase;
  const processes: AppProcess[] = [];
  const ports: Record<string, number> = {};
  let subjectPrefix: string;

  beforeAll(async () => {
    [nats, database] = await Promise.all([startPrivateNatsServer(), createTestDatabase()]);
    subjectPrefix = testSubjectPrefix();
    const env = {
      NATS_URL: nats.url,
      NATS_SUBJECT_PREFIX: subjectPrefix,
      TENGINE_SECRET_KEYS: `test:${Buffer.alloc(32, 1).toString('base64')}`,
      DATABASE_URL: database.url,
      RPC_TIMEOUT_MS: '1000',
    };
    for (const app of [...BACKENDS, 'gateway']) {
      ports[app] = await freePort();
      processes.push(startApp(app, { ...env, PORT: String(ports[app]), HOST: '127.0.0.1' }));
    }
    for (const app of [...BACKENDS, 'gateway']) {
      await waitUntil(
        async () => (await statusOf(`http://127.0.0.1:${ports[app]}/health/ready`)) === 200,
        30_000,
      );
    }
  });

  afterAll(async () => {
    const codes = await Promise.all(processes.map((child) => child.stop('SIGTERM')));
    await nats?.stop();
    await database?.drop();
    // Every service shuts down cleanly on SIGTERM.
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  });

  it('should answer GET /api/v1/status from four backend processes over NATS', async () => {
    const response = await fetch(`http://127.0.0.1:${ports['gateway']}/api/v1/status`);
    const body = (await response.json()) as PlatformStatus;
    expect(body.status).toBe('ok');
    expect(body.transport).toBe('nats');
    const instances = Object.values(body.services).map((entry) =>
      entry.status === 'ok' ? entry.instance : '',
    );
    expect(new Set(instances).size).toBe(5);
  });

  it('should return coded domain errors from a service process, not a generic failure', async () => {
    const link = await connectService(
      { kind: 'nats', url: nats.url, subjectPrefix },
      'probe',
      2_000,
    );
    try {
      const error = await link.bus
        .requestUnchecked(Subjects.registry.statusGet, { bogus: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('VALIDATION_FAILED');
      expect((error as DomainError).message).toContain('bogus');
    } finally {
      await link.bus.close();
    }
  });

  it('should expose Prometheus metrics with per-subject RPC latencies', async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports['registry']}/metrics`)).text();
    expect(text).toMatch(
      /tengine_rpc_server_duration_seconds_count\{service="registry",subject="rpc.registry.status.get.v1",outcome="ok"\} [1-9]/,
    );
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('should turn unready within seconds when NATS dies, and recover when it returns, without crashing', async () => {
    await nats.stop();
    const watched = ['gateway', 'registry'].map(
      (app) => `http://127.0.0.1:${ports[app]}/health/ready`,
    );
    const downAfter = await waitUntil(
      async () => (await Promise.all(watched.map(statusOf))).every((status) => status === 503),
      10_000,
      100,
    );
    expect(downAfter).toBeLessThan(5_000);
    const body = (await (await fetch(watched[1] as string)).json()) as {
      checks: { nats: { status: string } };
    };
    expect(body.checks.nats.status).toBe('down');

    await nats.start();
    const upAfter = await waitUntil(
      async () => (await Promise.all(watched.map(statusOf))).every((status) => status === 200),
      15_000,
      100,
    );
    expect(upAfter).toBeLessThan(10_000);
    for (const child of processes) expect(child.child.exitCode).toBeNull();
    await waitUntil(async () => {
      const status = (await (
        await fetch(`http://127.0.0.1:${ports['gateway']}/api/v1/status`)
      ).json()) as PlatformStatus;
      return status.status === 'ok';
    }, 10_000);
  });
});

describe('configuration errors at boot', () => {
  it('should refuse to start a service with an invalid NATS_URL and name the variable', async () => {
    const child = startApp('registry', {
      NATS_URL: 'http://localhost:4222',
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
    });
    expect(await child.exited()).toBe(1);
    expect(child.output()).toMatch(/NATS_URL: must be a URL \(nats:\/\/host:4222\)/);
  });

  it('should explain that a service alone needs NATS_URL and DATABASE_URL', async () => {
    const child = startApp('executor', {});
    expect(await child.exited()).toBe(1);
    expect(child.output()).toContain('missing: NATS_URL, DATABASE_URL');
    expect(child.output()).toContain('npm start');
  });

  it('should fail fast with the cause when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const child = startApp('audit', {
      NATS_URL: 'nats://127.0.0.1:4222',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`,
    });
    expect(await child.exited()).toBe(1);
    expect(child.output()).toContain('Cannot connect to PostgreSQL');
    expect(child.output()).toContain('DATABASE_URL');
  });
});
