import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pg from 'pg';

import { Subjects } from '@tengine/contracts';
import { MANAGEMENT_ROUTES, type PlatformStatus } from '@tengine/gateway';
import { startTelemetry } from '@tengine/telemetry';
import {
  createTestDatabase,
  TEST_NATS_URL,
  testSubjectPrefix,
  waitUntil,
  type TestDatabase,
} from '@tengine/testing';

import { startPlatform, type RunningPlatform } from '../../src/platform.js';

const telemetry = startTelemetry({ serviceName: 'platform-test', inMemory: true });

describe('the platform over real NATS and PostgreSQL', () => {
  let database: TestDatabase;
  let platform: RunningPlatform;

  beforeAll(async () => {
    database = await createTestDatabase();
    platform = await startPlatform({
      natsUrl: TEST_NATS_URL,
      subjectPrefix: testSubjectPrefix(),
      databaseUrl: database.url,
      dataDir: '/nonexistent',
      embeddedPostgresPort: 0,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      runMigrations: true,
      rpcTimeoutMs: 2_000,
      environment: { TENGINE_SECRET_KEYS: `test:${Buffer.alloc(32, 5).toString('base64')}` },
    });
  });

  afterAll(async () => {
    await platform?.close();
    await database?.drop();
  });

  it('should answer GET /api/v1/status from all five services with their schema state', async () => {
    const response = await fetch(`${platform.url}/api/v1/status`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as PlatformStatus;
    expect(body.status).toBe('ok');
    expect(body.transport).toBe('nats');
    expect(Object.keys(body.services).sort()).toEqual([
      'audit',
      'executor',
      'gateway',
      'identity',
      'registry',
    ]);
    for (const name of ['registry', 'identity', 'executor', 'audit']) {
      const entry = body.services[name];
      expect(entry).toMatchObject({ service: name, status: 'ok', version: '0.1.0' });
      if (entry?.status !== 'ok') throw new Error(`${name} unavailable`);
      expect(entry.schema?.name).toBe(name);
      expect(entry.schema?.pending).toEqual([]);
      expect(entry.schema?.applied.length).toBeGreaterThan(0);
    }
    expect(body.services['identity']).toMatchObject({
      schema: {
        applied: [
          'BaselineIdentity1763769600000',
          'AdminTokens1763769600001',
          'Credentials1763769600002',
        ],
      },
    });
  });

  it('should trace one request through the gateway and every service handler under one trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${platform.url}/api/v1/status`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    const spansOf = (): ReadableSpan[] =>
      (telemetry.memoryExporter?.getFinishedSpans() ?? []).filter(
        (span) => span.spanContext().traceId === traceId,
      );
    await waitUntil(() => Promise.resolve(spansOf().length >= 1 + 4 * 2), 3_000, 20);
    const spans = spansOf();
    const http = spans.find((span) => span.name === 'GET /api/v1/status');
    expect(http?.attributes['tengine.service']).toBe('gateway');
    expect(http?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    for (const service of ['registry', 'identity', 'executor', 'audit']) {
      const handler = spans.find(
        (span) =>
          span.attributes['tengine.service'] === service &&
          span.name === `rpc.${service}.status.get.v1`,
      );
      expect(handler).toBeDefined();
      // handler ← client span (gateway's NATS request) ← HTTP server span
      const client = spans.find(
        (span) => span.spanContext().spanId === handler?.parentSpanContext?.spanId,
      );
      expect(client?.name).toBe(`rpc.${service}.status.get.v1`);
      expect(client?.attributes['messaging.operation.type']).toBe('send');
      expect(client?.parentSpanContext?.spanId).toBe(http?.spanContext().spanId);
    }
  });

  it('should return errors with detail, code, fix and the request id', async () => {
    const response = await fetch(`${platform.url}/api/v1/no-such-thing`, {
      headers: { 'x-request-id': 'req-42' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(await response.json()).toEqual({
      detail: expect.stringContaining('/api/v1/no-such-thing') as unknown,
      code: 'NOT_FOUND',
      fix: expect.any(String) as unknown,
      request_id: 'req-42',
    });
  });

  it('should have created one admin token at start, stored only as a hash', async () => {
    expect(platform.adminToken.created).toBe(true);
    const token = platform.adminToken.token ?? '';
    expect(token).toMatch(/^tng_adm_[A-Za-z0-9_-]{43}$/);
    const again = await platform.gateway.bus.request(Subjects.identity.adminTokenBootstrap, {});
    expect(again).toEqual({ created: false, token: null, source: 'existing' });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const dump = await client.query<{ row: string }>(
        'SELECT row_to_json(t)::text AS row FROM identity.admin_tokens t',
      );
      expect(dump.rowCount).toBe(1);
      expect(dump.rows[0]?.row).not.toContain(token.slice(8));
    } finally {
      await client.end();
    }
  });

  it('should report a stopped service as unavailable quickly, with the others still answering', async () => {
    const audit = platform.services.find((service) => service.name === 'audit');
    await audit?.app.close();
    const started = Date.now();
    const response = await fetch(`${platform.url}/api/v1/status`);
    const body = (await response.json()) as PlatformStatus;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(body.status).toBe('degraded');
    expect(body.services['audit']).toMatchObject({
      status: 'unavailable',
      error: { code: 'RPC_NO_RESPONDERS' },
    });
    expect(body.services['registry']).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${platform.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      checks: { downstream: { status: 'degraded', services: { audit: 'down' } } },
    });
  });

  it('should serve an OpenAPI document whose every route exists, and a reference page', async () => {
    const response = await fetch(`${platform.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const fastify = platform.gateway.app.getHttpAdapter().getInstance();
    for (const route of MANAGEMENT_ROUTES) {
      expect(document.paths[route.path]?.[route.method]).toBeDefined();
      const url = route.path.replace(/\{(\w+)\}/g, ':$1');
      expect({
        route: `${route.method} ${url}`,
        exists: fastify.hasRoute({ method: route.method.toUpperCase(), url }),
      }).toEqual({
        route: `${route.method} ${url}`,
        exists: true,
      });
    }
    const page = await fetch(`${platform.url}/api/docs`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/api/v1/custom-tools/{toolId}');
  });
});
