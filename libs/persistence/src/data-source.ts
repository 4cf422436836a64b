import { createHash } from 'node:crypto';

import pg from 'pg';
import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';

type EntityClass = abstract new (...args: never[]) => object;
type MigrationClass = new () => MigrationInterface;

/** What a service declares about its own database schema. */
export interface ServiceSchema {
  /** PostgreSQL schema the service owns, e.g. `registry`. No service touches another's. */
  readonly schema: string;
  readonly entities: ReadonlyArray<EntityClass | EntitySchema>;
  /** Oldest first; class names end with a millisecond timestamp, as TypeORM requires. */
  readonly migrations: readonly MigrationClass[];
}

/** Options of {@link openDataSource}. */
export interface OpenDataSourceOptions extends ServiceSchema {
  readonly url: string;
  /** Shown in `pg_stat_activity` (`tengine-<service>`). */
  readonly applicationName: string;
  readonly poolSize?: number;
  /** Apply pending migrations before returning. */
  readonly runMigrations: boolean;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function quoteIdentifier(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new Error(`Invalid schema name "${name}"`);
  return `"${name}"`;
}

/** A stable 63-bit advisory lock key for a schema's migrations. */
function migrationLockKey(schema: string): string {
  return BigInt.asIntN(
    64,
    BigInt(
      `0x${createHash('sha256').update(`tengine:migrate:${schema}`).digest('hex').slice(0, 16)}`,
    ),
  ).toString();
}

/**
 * Opens the service's TypeORM DataSource on its own schema: creates the schema if needed and, when
 * asked, applies pending migrations under a PostgreSQL advisory lock, so replicas booting together
 * migrate once. Fails with a message naming the cause and the fix.
 */
export async function openDataSource(options: OpenDataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: [...options.entities],
    migrations: [...options.migrations],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    applicationName: options.applicationName,
    poolSize: options.poolSize ?? 10,
    connectTimeoutMS: 5_000,
    extra: { options: `-c search_path=${quoteIdentifier(options.schema)}` },
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new Error(
      `Cannot connect to PostgreSQL for schema "${options.schema}": ${(error as Error).message}. ` +
        'Start PostgreSQL or fix DATABASE_URL.',
      { cause: error },
    );
  }
  await dataSource
    .query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`)
    .catch((error: unknown) => {
      // Two replicas may race on CREATE SCHEMA; the loser sees a unique violation and can go on.
      if ((error as { code?: string }).code !== '23505') throw error;
    });
  if (options.runMigrations) await migrate(dataSource, options.schema);
  return dataSource;
}

/** Applies pending migrations of `schema` under an advisory lock; returns the names applied. */
export async function migrate(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const key = migrationLockKey(schema);
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [key]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    await runner.release();
  }
}

/** Migration state of the schema: applied names (oldest first) and the ones still pending. */
export async function schemaState(
  dataSource: DataSource,
  schema: string,
): Promise<{ name: string; applied: string[]; pending: string[] }> {
  const known = dataSource.migrations.map(
    (migration) => migration.name ?? migration.constructor.name,
  );
  const exists = await dataSource.query<unknown[]>(
    'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
    [schema, 'migrations'],
  );
  const applied = exists.length
    ? (
        await dataSource.query<Array<{ name: string }>>(
          `SELECT name FROM ${quoteIdentifier(schema)}."migrations" ORDER BY "timestamp" ASC, id ASC`,
        )
      ).map((row) => row.name)
    : [];
  const appliedSet = new Set(applied);
  return { name: schema, applied, pending: known.filter((name) => !appliedSet.has(name)) };
}

/** Resolves when PostgreSQL answers `SELECT 1` within `timeoutMs`; rejects with the cause otherwise. */
export async function pingDatabase(dataSource: DataSource, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates a database if it does not exist (used for test isolation and first start). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database))
    throw new Error(`Invalid database name "${database}"`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}
