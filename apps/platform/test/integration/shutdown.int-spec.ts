import { freePort, startApp, waitUntil, type AppProcess } from '@tengine/testing';

import { connectMcp } from '../support/mcp-client.js';
import { createProject, startStack, type ProjectFixture, type Stack } from '../support/stack.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('SIGTERM on an executor under load', () => {
  let stack: Stack;
  let upstream: TestUpstream;
  let project: ProjectFixture;
  let executor: AppProcess;

  beforeAll(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
      TENGINE_EGRESS_ALLOW: '127.0.0.1/32',
    });
    project = await createProject(stack);
    const created = await stack.call('POST', '/api/v1/custom-tools', {
      token: project.apiKey,
      body: {
        name: 'delayed',
        method: 'POST',
        base_url: upstream.origin,
        endpoint_path: '/delay',
        input_schema: { type: 'object', properties: {} },
      },
    });
    expect(created.status).toBe(201);
    const port = await freePort();
    executor = startApp('executor', {
      NATS_URL: process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
      NATS_SUBJECT_PREFIX: stack.subjectPrefix,
      DATABASE_URL: stack.database.url,
      TENGINE_EGRESS_ALLOW: '127.0.0.1/32',
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '10000',
    });
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200,
      30_000,
    );
    // Only the separate executor process serves calls from now on.
    await stack.platform.services.find((service) => service.name === 'executor')!.close();
  });

  afterAll(async () => {
    await executor?.stop('SIGKILL');
    await stack?.close();
    await upstream?.close();
  });

  it('should finish in-flight calls, exit cleanly, and record a terminal Run for each', async () => {
    const { client } = await connectMcp(stack.url, project.apiKey);
    try {
      const calls = Array.from({ length: 40 }, () =>
        client.callTool({ name: 'delayed', arguments: {} }),
      );
      await waitUntil(() => Promise.resolve(upstream.hits.length >= 40), 10_000, 10);
      const exit = executor.stop('SIGTERM');
      const results = await Promise.all(calls);
      expect(await exit).toBe(0);
      expect(results.filter((result) => result.isError)).toEqual([]);
      const runIds = results.map((result) => String(result._meta?.['io.tengine/run_id']));
      const audit = stack.platform.services.find((service) => service.name === 'audit')!;
      await waitUntil(async () => {
        const rows = await audit.dataSource.query<Array<{ status: string }>>(
          'SELECT status FROM audit.runs WHERE run_id = ANY($1)',
          [runIds],
        );
        return rows.length === 40 && rows.every((row) => row.status === 'succeeded');
      }, 15_000);
      expect(upstream.hits.filter((hit) => hit.url === '/delay')).toHaveLength(40);
    } finally {
      await client.close();
    }
  });
});
