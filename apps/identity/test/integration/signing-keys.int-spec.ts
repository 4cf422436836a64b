import { InProcessBroker } from '@tengine/messaging';
import { startBackendService } from '@tengine/runtime';
import { Keyring } from '@tengine/secrets';
import { captureLogger, createTestDatabase, type TestDatabase } from '@tengine/testing';

import { identityService } from '../../src/identity.definition.js';

describe('rotating the master key that seals identity signing keys', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  const boot = (secretKeys: string) =>
    startBackendService(identityService, {
      transport: { kind: 'in-process', broker: new InProcessBroker() },
      databaseUrl: database.url,
      runMigrations: true,
      httpPort: null,
      logger: captureLogger('identity').logger,
      rpcTimeoutMs: 2_000,
      environment: { TENGINE_SECRET_KEYS: secretKeys },
    });

  it('should re-seal signing keys under the newest key at boot, so the old key can be dropped', async () => {
    const oldKey = Keyring.generate('old');
    const newKey = Keyring.generate('new');
    const sealedKeyIds = async (): Promise<Array<string | undefined>> => {
      const identity = await boot(`${newKey},${oldKey}`);
      try {
        const rows = await identity.dataSource.query<Array<{ private_key_sealed: string }>>(
          'SELECT private_key_sealed FROM identity.signing_keys',
        );
        return rows.map((row) => Keyring.keyIdOf(row.private_key_sealed));
      } finally {
        await identity.close();
      }
    };
    const first = await boot(oldKey);
    const [before] = await first.dataSource.query<Array<{ private_key_sealed: string }>>(
      'SELECT private_key_sealed FROM identity.signing_keys',
    );
    expect(Keyring.keyIdOf(before!.private_key_sealed)).toBe('old');
    await first.close();
    expect(await sealedKeyIds()).toEqual(['new']);
    // With the old key gone from the keyring, identity still boots and can open its signing key.
    const last = await boot(newKey);
    const [after] = await last.dataSource.query<Array<{ kid: string; private_key_sealed: string }>>(
      'SELECT kid, private_key_sealed FROM identity.signing_keys',
    );
    expect(() =>
      Keyring.parse(newKey).open(after!.private_key_sealed, `identity/signing-key/${after!.kid}`),
    ).not.toThrow();
    await last.close();
  });
});
