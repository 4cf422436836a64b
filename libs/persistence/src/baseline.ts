import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamp of every service's baseline migration (2025-11-22T00:00:00Z). */
const BASELINE_TIMESTAMP = 1763769600000;

/**
 * The first migration of a service: creates the schema it owns. Later migrations add its tables.
 * WARNING: the class name is persisted in `<schema>.migrations`; never change it.
 */
export function baselineMigration(schema: string): new () => MigrationInterface {
  const name = `Baseline${schema.charAt(0).toUpperCase()}${schema.slice(1)}${BASELINE_TIMESTAMP}`;
  const migration = class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    }

    async down(): Promise<void> {
      // The schema may hold data of later migrations; dropping it is an operator's decision.
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
