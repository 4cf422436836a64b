import { randomUUID } from 'node:crypto';

import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { context, trace } from '@opentelemetry/api';

import { DomainError, Subjects, type StatusRequest } from '@tengine/contracts';
import {
  InProcessBroker,
  installTraceHooks,
  RpcErrorFilter,
  RpcHandler,
  RpcPayload,
} from '@tengine/messaging';
import { connectService, type ServiceLink, type TransportConfig } from '../../src/index.js';
import { startTelemetry, tracer } from '@tengine/telemetry';
import { captureLogger, TEST_NATS_URL, testSubjectPrefix, waitUntil } from '@tengine/testing';

const telemetry = startTelemetry({ serviceName: 'transport-test', inMemory: true });

@Controller()
class ProbeController {
  static instance = 'a';
  static handled = 0;
  private readonly replica = randomUUID();

  @MessagePattern('test.echo')
  echo(@Payload() data: unknown): { data: unknown; instance: string } {
    ProbeController.handled += 1;
    return { data, instance: ProbeController.instance };
  }

  @MessagePattern('test.replica')
  whoAmI(): string {
    ProbeController.handled += 1;
    return this.replica;
  }

  @MessagePattern('test.domain-error')
  domainError(): never {
    throw new DomainError('VALIDATION_FAILED', 'name: must not be empty', {
      details: { issues: [{ path: 'name' }] },
    });
  }

  @MessagePattern('test.crash')
  crash(): never {
    throw new Error('database password is hunter2');
  }

  @MessagePattern('test.slow')
  async slow(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 600));
    return 'late';
  }

  @MessagePattern('test.trace')
  traceId(): string | undefined {
    return trace.getActiveSpan()?.spanContext().traceId;
  }

  @RpcHandler(Subjects.registry.statusGet)
  status(@RpcPayload(Subjects.registry.statusGet) _request: StatusRequest): object {
    return {
      service: 'registry',
      version: '9.9.9',
      instance: ProbeController.instance,
      uptimeSeconds: 1,
      schema: null,
    };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

async function serve(
  link: ServiceLink,
  queueGroup: string,
  logs = captureLogger('probe'),
): Promise<INestMicroservice> {
  const server = link.server(queueGroup);
  installTraceHooks(server, queueGroup, link.subjectPrefix);
  const app = await NestFactory.createMicroservice(ProbeModule, {
    strategy: server,
    logger: false,
  });
  app.useGlobalFilters(new RpcErrorFilter(queueGroup, logs.logger));
  await app.listen();
  return app;
}

const transports: Array<[string, () => TransportConfig]> = [
  ['nats', () => ({ kind: 'nats', url: TEST_NATS_URL, subjectPrefix: testSubjectPrefix() })],
  ['in-process', () => ({ kind: 'in-process', broker: new InProcessBroker() })],
];

describe.each(transports)('the same handlers over the %s transport', (_name, makeConfig) => {
  let config: TransportConfig;
  let serverLink: ServiceLink;
  let clientLink: ServiceLink;
  let app: INestMicroservice;
  const logs = captureLogger('probe');

  beforeAll(async () => {
    config = makeConfig();
    serverLink = await connectService(config, 'probe-server', 1_000);
    clientLink = await connectService(config, 'probe-client', 1_000);
    app = await serve(serverLink, 'probe', logs);
  });

  afterAll(async () => {
    await app.close();
    await serverLink.bus.close();
    await clientLink.bus.close();
  });

  it('should return the handler reply', async () => {
    await expect(
      clientLink.bus.requestUnchecked('test.echo', { hello: ['world'] }),
    ).resolves.toEqual({
      data: { hello: ['world'] },
      instance: 'a',
    });
  });

  it('should return a typed, validated reply for a contract subject', async () => {
    const reply = await clientLink.bus.request(Subjects.registry.statusGet, {});
    expect(reply.version).toBe('9.9.9');
  });

  it('should refuse a payload that breaks the contract with VALIDATION_FAILED naming the problem', async () => {
    const error = await clientLink.bus
      .requestUnchecked(Subjects.registry.statusGet, { surprise: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    expect((error as DomainError).message).toContain('surprise');
  });

  it('should carry a domain error across as a DomainError with its code and details', async () => {
    const error = await clientLink.bus
      .requestUnchecked('test.domain-error', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    expect((error as DomainError).message).toBe('name: must not be empty');
    expect((error as DomainError).details).toEqual({ issues: [{ path: 'name' }] });
  });

  it('should turn an unexpected error into INTERNAL without leaking its message, and log it', async () => {
    const error = await clientLink.bus.requestUnchecked('test.crash', {}).catch((e: unknown) => e);
    expect((error as DomainError).code).toBe('INTERNAL');
    expect((error as DomainError).message).toMatch(/Internal error in the probe service/);
    expect((error as DomainError).message).not.toContain('hunter2');
    expect(logs.text()).toContain('Unhandled error in message handler');
  });

  it('should fail with RPC_TIMEOUT when the reply does not come in time', async () => {
    const started = Date.now();
    const error = await clientLink.bus
      .requestUnchecked('test.slow', {}, { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect((error as DomainError).code).toBe('RPC_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('should fail fast with RPC_NO_RESPONDERS when nobody serves the subject', async () => {
    const started = Date.now();
    const error = await clientLink.bus
      .requestUnchecked('test.nobody-home', {}, { timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect((error as DomainError).code).toBe('RPC_NO_RESPONDERS');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('should continue the caller trace in the handler', async () => {
    const span = tracer().startSpan('caller');
    const handlerTraceId = await context.with(trace.setSpan(context.active(), span), () =>
      clientLink.bus.requestUnchecked('test.trace', {}),
    );
    span.end();
    expect(handlerTraceId).toBe(span.spanContext().traceId);
    // The handler span ends just after the reply is sent, so it may land a moment later.
    const serverSpan = () =>
      (telemetry.memoryExporter?.getFinishedSpans() ?? []).find(
        (candidate) =>
          candidate.name === 'test.trace' &&
          candidate.attributes['tengine.service'] === 'probe' &&
          candidate.spanContext().traceId === span.spanContext().traceId,
      );
    await waitUntil(() => Promise.resolve(serverSpan() !== undefined), 2_000, 10);
    expect(serverSpan()?.parentSpanContext?.spanId).toBeDefined();
  });
});

describe('queue groups and namespaces over NATS', () => {
  it('should share requests between two replicas, each request handled exactly once', async () => {
    const config: TransportConfig = {
      kind: 'nats',
      url: TEST_NATS_URL,
      subjectPrefix: testSubjectPrefix(),
    };
    const links = await Promise.all(
      [0, 1, 2].map((index) => connectService(config, `replica-${index}`, 1_000)),
    );
    const [first, second, client] = links as [ServiceLink, ServiceLink, ServiceLink];
    const apps = [await serve(first, 'probe'), await serve(second, 'probe')];
    try {
      ProbeController.handled = 0;
      const replies = await Promise.all(
        Array.from(
          { length: 60 },
          () => client.bus.requestUnchecked('test.replica', {}) as Promise<string>,
        ),
      );
      expect(new Set(replies).size).toBe(2);
      expect(ProbeController.handled).toBe(60);
    } finally {
      for (const app of apps) await app.close();
      for (const link of links) await link.bus.close();
    }
  });

  it('should not let a service in one namespace answer requests of another', async () => {
    const serverLink = await connectService(
      { kind: 'nats', url: TEST_NATS_URL, subjectPrefix: testSubjectPrefix() },
      's',
      1_000,
    );
    const clientLink = await connectService(
      { kind: 'nats', url: TEST_NATS_URL, subjectPrefix: testSubjectPrefix() },
      'c',
      1_000,
    );
    const app = await serve(serverLink, 'probe');
    try {
      const error = await clientLink.bus.requestUnchecked('test.echo', {}).catch((e: unknown) => e);
      expect((error as DomainError).code).toBe('RPC_NO_RESPONDERS');
    } finally {
      await app.close();
      await serverLink.bus.close();
      await clientLink.bus.close();
    }
  });
});
