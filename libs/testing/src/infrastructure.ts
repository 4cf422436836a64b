import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

/** The local NATS (JetStream) of the development and CI machines. */
export const TEST_NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A maintenance database URL on the local PostgreSQL, used to create and drop test databases. */
export const TEST_PG_ADMIN_URL =
  process.env['TEST_DATABASE_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A short random lowercase name, unique per call, e.g. `t_ab12cd34ef`. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A NATS subject namespace unique to one test suite, so suites running in parallel never meet. */
export function testSubjectPrefix(): string {
  return uniqueName('test');
}

/** A throw-away database on the local PostgreSQL. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database for one suite; `drop()` removes it even with connections left open. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('tengine_test');
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A private nats-server process a test may stop and start (for outage tests). */
export interface PrivateNatsServer {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private `nats-server` (with JetStream) on a free loopback port. */
export async function startPrivateNatsServer(
  binary = process.env['NATS_SERVER_BIN'] ?? 'nats-server',
): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'tengine-nats-'));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const candidates = [binary, '/usr/sbin/nats-server', '/usr/bin/nats-server'];
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        child = await new Promise<ChildProcess>((resolve, reject) => {
          const spawned = spawn(
            candidate,
            ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
            {
              stdio: 'ignore',
            },
          );
          spawned.once('error', reject);
          spawned.once('spawn', () => resolve(spawned));
        });
        await waitForPort(port, 5_000);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(
      `Cannot start nats-server (apt-get install nats-server): ${(lastError as Error).message}`,
    );
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    stop: async () => {
      await stop();
    },
  };
}

/** Removes a temporary directory made for a test. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns how long it took. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms`);
}
