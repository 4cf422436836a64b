import { randomBytes } from 'node:crypto';

import {
  DomainError,
  Subjects,
  type CreateToolRequest,
  type ErrorCode,
  type EventPayload,
} from '@tengine/contracts';
import { startBackendService, type RunningService } from '@tengine/runtime';
import {
  captureLogger,
  createTestDatabase,
  TEST_NATS_URL,
  testSubjectPrefix,
  type CapturedLogger,
  type TestDatabase,
} from '@tengine/testing';

import { registryService } from '../../src/registry.definition.js';

/** A TENGINE_SECRET_KEYS entry with a fresh random key. */
export function secretKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** One registry on its own database and subject namespace, over the local NATS. */
export interface RegistryHarness {
  readonly database: TestDatabase;
  readonly subjectPrefix: string;
  /** Starts a registry replica (several may run on the same database and namespace). */
  start(environment?: Record<string, string>, logs?: CapturedLogger): Promise<RunningService>;
  /** Stops one replica. */
  stop(service: RunningService): Promise<void>;
  /** Stops every replica and drops the database. */
  close(): Promise<void>;
}

export async function registryHarness(): Promise<RegistryHarness> {
  const database = await createTestDatabase();
  const subjectPrefix = testSubjectPrefix();
  const running: RunningService[] = [];
  return {
    database,
    subjectPrefix,
    async start(
      environment = { TENGINE_SECRET_KEYS: secretKey('k1') },
      logs = captureLogger('registry'),
    ) {
      const service = await startBackendService(registryService, {
        transport: { kind: 'nats', url: TEST_NATS_URL, subjectPrefix },
        databaseUrl: database.url,
        runMigrations: true,
        httpPort: null,
        logger: logs.logger,
        rpcTimeoutMs: 5_000,
        environment,
      });
      running.push(service);
      return service;
    },
    async stop(service) {
      const index = running.indexOf(service);
      if (index >= 0) running.splice(index, 1);
      await service.close();
    },
    async close() {
      for (const service of running.splice(0)) await service.close();
      await database.drop();
    },
  };
}

/** Creates a project and returns its id. */
export async function newProject(service: RunningService, name = 'Acme'): Promise<string> {
  const project = await service.bus.request(Subjects.registry.projectCreate, {
    name,
    environment: 'development',
  });
  return project.id;
}

/** A valid tool definition for `projectId`, with overrides. */
export function toolRequest(
  projectId: string,
  overrides: Readonly<Record<string, unknown>> = {},
): CreateToolRequest {
  return {
    projectId,
    name: 'get_order',
    description: 'Fetch one order of the calling customer',
    method: 'GET',
    base_url: 'https://api.example.com',
    endpoint_path: '/orders/{{order_id}}',
    query_template: null,
    header_template: null,
    body_template: null,
    input_schema: {
      type: 'object',
      properties: { order_id: { type: 'string', description: 'Order id' } },
      required: ['order_id'],
    },
    auth_strategy: 'none',
    require_member: false,
    is_enabled: true,
    timeout_ms: 10_000,
    required_scope: null,
    annotations: { readOnlyHint: true },
    ...overrides,
  };
}

/** The domain error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

/** Asserts a domain error's code and exact message. */
export async function expectError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message: string,
): Promise<DomainError> {
  const error = await rejectionOf(promise);
  expect({ code: error.code, message: error.message }).toEqual({ code, message });
  return error;
}

/** Collects `evt.registry.tool.changed.v1` events seen by `service`. */
export function collectToolEvents(service: RunningService): {
  readonly events: Array<EventPayload<typeof Subjects.registry.toolChanged>>;
  stop(): void;
} {
  const events: Array<EventPayload<typeof Subjects.registry.toolChanged>> = [];
  const stop = service.bus.subscribe(Subjects.registry.toolChanged, (event) => events.push(event));
  return { events, stop };
}
