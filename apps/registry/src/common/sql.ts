import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, whatever the command: TypeORM's plain `query`
 * answers `[rows, count]` for UPDATE and DELETE, which `RETURNING` statements need unwrapped.
 */
export async function queryRows<T>(
  executor: DataSource | EntityManager,
  sql: string,
  parameters: readonly unknown[],
): Promise<T[]> {
  const own = 'manager' in executor ? executor.createQueryRunner() : undefined;
  const runner = own ?? (executor as EntityManager).queryRunner;
  if (!runner) throw new Error('queryRows needs a DataSource or a transactional EntityManager');
  try {
    const result = await runner.query(sql, [...parameters], true);
    return result.records as T[];
  } finally {
    if (own) await own.release();
  }
}
