import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PlatformStatus } from '@tengine/gateway';
import { freePort, removeDir, startApp, waitUntil, type AppProcess } from '@tengine/testing';

describe('npm start: the whole platform in one process with embedded defaults', () => {
  let dataDir: string;
  let pgPort: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tengine-embedded-'));
    pgPort = await freePort();
  });

  const started: AppProcess[] = [];

  // A failed assertion must not leave a platform (and its PostgreSQL) running after the suite.
  afterAll(async () => {
    for (const child of started) await child.stop('SIGTERM');
    removeDir(dataDir);
  });

  const start = (): AppProcess => {
    const child = startApp('platform', {
      TENGINE_DATA_DIR: dataDir,
      TENGINE_EMBEDDED_PG_PORT: String(pgPort),
      PORT: '0',
    });
    started.push(child);
    return child;
  };

  it('should start with no external service, answer from all five services, print the admin token once, and stop cleanly', async () => {
    const first = start();
    const [, url] = await first.waitFor(/MCP endpoint\s+(http:\/\/127\.0\.0\.1:\d+)\/mcp/, 90_000);
    await first.waitFor(/Admin token \(shown once/);
    const [, token] = await first.waitFor(/\n\s+(tng_adm_[A-Za-z0-9_-]+)\n/);
    expect(token).toHaveLength(8 + 43);
    expect(first.output()).toContain(`${url}/api/v1`);

    const status = (await (await fetch(`${url}/api/v1/status`)).json()) as PlatformStatus;
    expect(status.status).toBe('ok');
    expect(status.transport).toBe('in-process');
    expect(Object.keys(status.services).sort()).toEqual([
      'audit',
      'executor',
      'gateway',
      'identity',
      'registry',
    ]);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    expect(await first.stop('SIGTERM')).toBe(0);
    // The embedded PostgreSQL went down with it: its port is free again.
    await waitUntil(async () => (await freePort()) > 0 && !(await portOpen(pgPort)), 10_000);

    const second = start();
    const [, secondUrl] = await second.waitFor(
      /MCP endpoint\s+(http:\/\/127\.0\.0\.1:\d+)\/mcp/,
      60_000,
    );
    await second.waitFor(/Admin token: created at first start/);
    expect(second.output()).not.toContain(token);
    const again = (await (await fetch(`${secondUrl}/api/v1/status`)).json()) as PlatformStatus;
    expect(again.services['identity']).toMatchObject({ status: 'ok', schema: { pending: [] } });
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
