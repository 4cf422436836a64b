import { Subjects } from '@tengine/contracts';
import { captureLogger, startApp } from '@tengine/testing';

import {
  expectError,
  newProject,
  registryHarness,
  secretKey,
  toolRequest,
  type RegistryHarness,
} from './registry-harness.js';

/** Key ids of the stored secrets, by tool name and version. */
async function keyIdsOf(harness: RegistryHarness, projectId: string): Promise<string[]> {
  const registry = await harness.start({});
  try {
    const rows = await registry.dataSource.query<Array<{ key_id: string }>>(
      `SELECT split_part(auth_secret, '.', 2) AS key_id FROM registry.tool_versions
        WHERE project_id = $1 AND auth_secret IS NOT NULL ORDER BY name, version`,
      [projectId],
    );
    return rows.map((row) => row.key_id);
  } finally {
    await harness.stop(registry);
  }
}

describe('tool secrets at rest', () => {
  let harness: RegistryHarness;

  beforeEach(async () => {
    harness = await registryHarness();
  });

  afterEach(() => harness.close());

  it("should fail to decrypt a secret copied into another tool's row, with the reference's 500 detail", async () => {
    const logs = captureLogger('registry');
    const registry = await harness.start({ TENGINE_SECRET_KEYS: secretKey('k1') }, logs);
    const projectId = await newProject(registry);
    const bearer = { auth_strategy: 'bearer', encrypted_auth_secret: 'token-of-tool-a-0123456789' };
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, { name: 'tool_a', ...bearer }),
    );
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, {
        name: 'tool_b',
        ...bearer,
        encrypted_auth_secret: 'token-of-b-xyz',
      }),
    );
    await registry.dataSource.query(
      `UPDATE registry.tool_versions SET auth_secret =
         (SELECT auth_secret FROM registry.tool_versions WHERE name = 'tool_a')
        WHERE name = 'tool_b'`,
    );
    await expectError(
      registry.bus.request(Subjects.registry.toolResolve, { projectId, name: 'tool_b' }),
      'REGISTRY_SECRET_DECRYPT_FAILED',
      'Failed to decrypt auth secret',
    );
    // A copy into another project's tool fails the same way.
    const other = await newProject(registry, 'Other');
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(other, { name: 'tool_a', ...bearer, encrypted_auth_secret: 'token-of-other-1' }),
    );
    await registry.dataSource.query(
      `UPDATE registry.tool_versions SET auth_secret =
         (SELECT auth_secret FROM registry.tool_versions WHERE project_id = $1 AND name = 'tool_a')
        WHERE project_id = $2`,
      [projectId, other],
    );
    await expectError(
      registry.bus.request(Subjects.registry.toolResolve, { projectId: other, name: 'tool_a' }),
      'REGISTRY_SECRET_DECRYPT_FAILED',
      'Failed to decrypt auth secret',
    );
    await expect(
      registry.bus.request(Subjects.registry.toolResolve, { projectId, name: 'tool_a' }),
    ).resolves.toMatchObject({ secret: 'token-of-tool-a-0123456789' });
    expect(logs.text()).toContain('tool auth secret could not be decrypted');
    expect(logs.text()).not.toContain('token-of');
  });

  it('should re-encrypt every secret under the newest key with npm run secrets:rotate, and keep calls working', async () => {
    const oldKey = secretKey('k1');
    const newKey = secretKey('k2');
    let registry = await harness.start({ TENGINE_SECRET_KEYS: oldKey });
    const projectId = await newProject(registry);
    const signed = await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, {
        name: 'signed',
        auth_strategy: 'hmac_signature',
        encrypted_auth_secret: 'whsec_first_0123456789',
      }),
    );
    await registry.bus.request(Subjects.registry.toolPatch, {
      projectId,
      toolId: signed.id,
      encrypted_auth_secret: 'whsec_second_0123456789',
    });
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, {
        name: 'bearer',
        auth_strategy: 'bearer',
        encrypted_auth_secret: 'bearer-token-abcdefghij',
      }),
    );
    await harness.stop(registry);
    expect(await keyIdsOf(harness, projectId)).toEqual(['k1', 'k1', 'k1']);

    const rotation = startApp(
      'registry',
      { DATABASE_URL: harness.database.url, TENGINE_SECRET_KEYS: `${newKey},${oldKey}` },
      'rotate-secrets',
    );
    expect(await rotation.exited()).toBe(0);
    expect(rotation.output()).toContain('3 tool secret(s) re-encrypted under key "k2"');
    expect(rotation.output()).not.toContain(oldKey.split(':')[1]);
    expect(await keyIdsOf(harness, projectId)).toEqual(['k2', 'k2', 'k2']);

    // The old key can go: everything opens with the new one alone, every version included.
    registry = await harness.start({ TENGINE_SECRET_KEYS: newKey });
    await expect(
      registry.bus.request(Subjects.registry.toolResolve, { projectId, name: 'signed' }),
    ).resolves.toMatchObject({ secret: 'whsec_second_0123456789', currentVersion: 2 });
    await expect(
      registry.bus.request(Subjects.registry.toolResolve, {
        projectId,
        name: 'signed',
        version: 1,
      }),
    ).resolves.toMatchObject({ secret: 'whsec_first_0123456789' });
    await expect(
      registry.bus.request(Subjects.registry.toolResolve, { projectId, name: 'bearer' }),
    ).resolves.toMatchObject({ secret: 'bearer-token-abcdefghij' });

    const again = startApp(
      'registry',
      { DATABASE_URL: harness.database.url, TENGINE_SECRET_KEYS: newKey },
      'rotate-secrets',
    );
    expect(await again.exited()).toBe(0);
    expect(again.output()).toContain('0 tool secret(s) re-encrypted under key "k2"');
  });

  it('should report secrets no key opens, leave them as they are, and exit non-zero', async () => {
    const lostKey = secretKey('lost');
    const registry = await harness.start({ TENGINE_SECRET_KEYS: lostKey });
    const projectId = await newProject(registry);
    await registry.bus.request(
      Subjects.registry.toolCreate,
      toolRequest(projectId, {
        auth_strategy: 'bearer',
        encrypted_auth_secret: 'orphaned-0123456789',
      }),
    );
    await harness.stop(registry);
    const rotation = startApp(
      'registry',
      { DATABASE_URL: harness.database.url, TENGINE_SECRET_KEYS: secretKey('k9') },
      'rotate-secrets',
    );
    expect(await rotation.exited()).toBe(1);
    expect(rotation.output()).toContain('0 tool secret(s) re-encrypted under key "k9"');
    expect(rotation.output()).toMatch(/key "lost" is not in the keyring/);
    expect(await keyIdsOf(harness, projectId)).toEqual(['lost']);
  });

  it('should refuse to rotate without keys or a database, naming what is missing', async () => {
    const noKeys = startApp('registry', { DATABASE_URL: harness.database.url }, 'rotate-secrets');
    expect(await noKeys.exited()).toBe(1);
    expect(noKeys.output()).toContain('secrets:rotate needs TENGINE_SECRET_KEYS');
    const noDatabase = startApp(
      'registry',
      { TENGINE_SECRET_KEYS: secretKey('k1') },
      'rotate-secrets',
    );
    expect(await noDatabase.exited()).toBe(1);
    expect(noDatabase.output()).toContain('secrets:rotate needs DATABASE_URL');
  });
});
