import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { freePort, removeDir, waitUntil } from '@tengine/testing';

/**
 * A private PostgreSQL cluster the suite can stop and start: the system's `initdb` and `pg_ctl`
 * (Debian's /usr/lib/postgresql/<version>/bin) on a free loopback port, data in a temporary folder,
 * trust authentication. As root the server runs as the `postgres` user, as PostgreSQL requires.
 */
export interface PrivateDatabase {
  /** URL of the `tengine` database the services share (one schema each). */
  readonly url: string;
  readonly port: number;
  /** Crash-stops the server (`pg_ctl stop -m immediate`: no shutdown checkpoint, WAL replay at start). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The server log, for the report on failure. */
  log(): string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      'No PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)',
    );
  }
  return join(root, versions[0], 'bin');
}

/** uid and gid of the `postgres` user when running as root (PostgreSQL refuses to run as root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function run(binary: string, args: string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${binary} ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

export async function startPrivateDatabase(): Promise<PrivateDatabase> {
  const bin = postgresBinDir();
  const user = serverUser();
  const root = mkdtempSync(join(tmpdir(), 'tengine-chaos-pg-'));
  if (user) chownSync(root, user.uid, user.gid);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const port = await freePort();
  const options: SpawnOptions = {
    ...(user ?? {}),
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '' },
  };
  await run(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    options,
  );
  // fsync=off: every committed transaction still reaches the kernel before the commit returns, so
  // a crash of the server process (what the suite injects) loses nothing; only a machine crash would.
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${root}`,
    '-c max_connections=200',
    '-c fsync=off',
  ].join(' ');
  const start = async (): Promise<void> => {
    await run(
      join(bin, 'pg_ctl'),
      ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start'],
      options,
    );
  };
  const stop = async (): Promise<void> => {
    await run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], options);
  };
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE tengine');
  await admin.end();
  const url = `postgres://postgres@127.0.0.1:${port}/tengine`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // The pool's idle clients die with the server; pg reports that here instead of crashing the run.
  pool.on('error', () => undefined);
  return {
    url,
    port,
    start: async () => {
      await start();
      await waitUntil(async () => (await pool.query('SELECT 1')).rowCount === 1, 30_000, 100);
    },
    stop,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    query: async <T>(sql: string, params: unknown[] = []) =>
      (await pool.query(sql, params)).rows as T[],
    close: async () => {
      await pool.end().catch(() => undefined);
      await stop().catch(() => undefined);
      removeDir(root);
    },
  };
}
