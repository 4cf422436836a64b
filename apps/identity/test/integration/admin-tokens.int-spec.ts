import { createHash } from 'node:crypto';

import { Subjects } from '@tengine/contracts';
import { InProcessBroker } from '@tengine/messaging';
import { startBackendService, type RunningService } from '@tengine/runtime';
import {
  captureLogger,
  createTestDatabase,
  TEST_NATS_URL,
  testSubjectPrefix,
  type TestDatabase,
} from '@tengine/testing';

import { identityService } from '../../src/identity.definition.js';

const SECRET_KEYS = `test:${Buffer.alloc(32, 3).toString('base64')}`;

describe('platform admin token', () => {
  let database: TestDatabase;
  const running: RunningService[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    for (const service of running.splice(0)) await service.close();
    await database.drop();
  });

  async function startIdentity(
    environment: Record<string, string>,
    logs = captureLogger('identity'),
  ) {
    const service = await startBackendService(identityService, {
      transport: { kind: 'nats', url: TEST_NATS_URL, subjectPrefix: testSubjectPrefix() },
      databaseUrl: database.url,
      runMigrations: true,
      httpPort: null,
      logger: logs.logger,
      rpcTimeoutMs: 2_000,
      environment: { TENGINE_SECRET_KEYS: SECRET_KEYS, ...environment },
    });
    running.push(service);
    return service;
  }

  it('should create exactly one token when many bootstrap requests race', async () => {
    const identity = await startIdentity({});
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        identity.bus.request(Subjects.identity.adminTokenBootstrap, {}),
      ),
    );
    const created = replies.filter((reply) => reply.created);
    expect(created).toHaveLength(1);
    expect(created[0]?.token).toMatch(/^tng_adm_/);
    expect(replies.filter((reply) => !reply.created).every((reply) => reply.token === null)).toBe(
      true,
    );
  });

  it('should use TENGINE_ADMIN_TOKEN, store only its hash, and never log it', async () => {
    const token = 'operator-chosen-admin-token-0123456789abcdef';
    const logs = captureLogger('identity');
    const identity = await startIdentity({ TENGINE_ADMIN_TOKEN: token }, logs);
    await expect(identity.bus.request(Subjects.identity.adminTokenBootstrap, {})).resolves.toEqual({
      created: false,
      token: null,
      source: 'environment',
    });
    const rows = await identity.dataSource.query<Array<{ token_hash: string; source: string }>>(
      'SELECT token_hash, source FROM identity.admin_tokens',
    );
    expect(rows).toEqual([
      { token_hash: createHash('sha256').update(token).digest('hex'), source: 'environment' },
    ]);
    expect(logs.text()).not.toContain(token);
  });

  it('should refuse to boot with a TENGINE_ADMIN_TOKEN too short to be safe, naming the variable', async () => {
    await expect(
      startBackendService(identityService, {
        transport: { kind: 'in-process', broker: new InProcessBroker() },
        databaseUrl: database.url,
        runMigrations: true,
        httpPort: null,
        logger: captureLogger('identity').logger,
        rpcTimeoutMs: 1_000,
        environment: { TENGINE_ADMIN_TOKEN: 'short', TENGINE_SECRET_KEYS: SECRET_KEYS },
      }),
    ).rejects.toThrow(/TENGINE_ADMIN_TOKEN: must be at least 32 characters/);
  });
});
