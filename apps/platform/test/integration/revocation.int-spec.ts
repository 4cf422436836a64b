import { waitUntil } from '@tengine/testing';

import {
  createProject,
  startGatewayProcesses,
  startStack,
  type GatewayProcess,
  type ProjectFixture,
  type Stack,
} from '../support/stack.js';

describe('revocation across gateway replicas', () => {
  let stack: Stack;
  let project: ProjectFixture;
  let gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    stack = await startStack();
    project = await createProject(stack, { environment: 'development' });
    gateways = await startGatewayProcesses(stack, 2, { LOG_LEVEL: 'debug' });
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.process.stop();
    await stack?.close();
  });

  const statusOn = async (url: string, token: string): Promise<number> =>
    (await fetch(`${url}/api/v1/integrations`, { headers: { authorization: `Bearer ${token}` } }))
      .status;

  it('should refuse a revoked key and every session minted with it on every replica within one second', async () => {
    const minted = await stack.call<{ session_token: string }>(
      'POST',
      '/api/v1/mcp/session-token',
      {
        token: project.apiKey,
        body: { member_external_id: 'user-7' },
      },
    );
    expect(minted.status).toBe(200);
    const session = minted.body.session_token;
    for (const { url } of gateways) {
      expect(await statusOn(url, project.apiKey)).toBe(200);
      // Authenticated (then refused: sessions only call tools).
      expect(await statusOn(url, session)).toBe(403);
    }

    const revoked = await stack.call('DELETE', `/api/v1/api-keys/${project.apiKeyId}`, {
      token: project.apiKey,
    });
    expect(revoked.status).toBe(200);
    const started = Date.now();
    await waitUntil(
      async () => {
        const statuses = await Promise.all(
          gateways.flatMap(({ url }) => [statusOn(url, project.apiKey), statusOn(url, session)]),
        );
        return statuses.every((status) => status === 401);
      },
      5_000,
      20,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('should never write keys or tokens to the logs', () => {
    const logs = gateways.map((gateway) => gateway.process.output()).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(project.apiKey);
    expect(logs).not.toContain(project.apiKey.slice(8, 40));
    expect(logs).not.toMatch(/tng_mst_[A-Za-z0-9_-]{20}/);
    expect(logs).not.toContain(stack.adminToken);
  });
});
