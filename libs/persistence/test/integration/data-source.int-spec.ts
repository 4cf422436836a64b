import type { MigrationInterface, QueryRunner } from 'typeorm';

import { createTestDatabase, type TestDatabase } from '@tengine/testing';

import {
  baselineMigration,
  migrate,
  openDataSource,
  pingDatabase,
  schemaState,
} from '../../src/index.js';

let applications = 0;

class CreateWidgets1763769600005 implements MigrationInterface {
  name = 'CreateWidgets1763769600005';

  async up(queryRunner: QueryRunner): Promise<void> {
    applications += 1;
    // Slow enough that concurrent boots overlap if the lock did not serialise them.
    await queryRunner.query('SELECT pg_sleep(0.2)');
    await queryRunner.query('CREATE TABLE "widgets"."widgets" ("id" int PRIMARY KEY)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "widgets"."widgets"');
  }
}

describe('service schemas and migrations on PostgreSQL', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase();
    applications = 0;
  });

  afterEach(async () => {
    await database.drop();
  });

  const schema = {
    schema: 'widgets',
    entities: [],
    migrations: [baselineMigration('widgets'), CreateWidgets1763769600005],
  };

  it('should create the schema and apply its migrations once when replicas boot together', async () => {
    const sources = await Promise.all(
      [1, 2, 3].map(() =>
        openDataSource({
          ...schema,
          url: database.url,
          applicationName: 'test',
          runMigrations: true,
        }),
      ),
    );
    try {
      expect(applications).toBe(1);
      const state = await schemaState(sources[0]!, 'widgets');
      expect(state).toEqual({
        name: 'widgets',
        applied: ['BaselineWidgets1763769600000', 'CreateWidgets1763769600005'],
        pending: [],
      });
      const tables = await sources[1]!.query<Array<{ table_schema: string }>>(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'widgets'",
      );
      expect(tables).toEqual([{ table_schema: 'widgets' }]);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
    }
  });

  it('should report pending migrations when booted without running them, and apply them on demand', async () => {
    const source = await openDataSource({
      ...schema,
      url: database.url,
      applicationName: 'test',
      runMigrations: false,
    });
    try {
      expect((await schemaState(source, 'widgets')).pending).toEqual([
        'BaselineWidgets1763769600000',
        'CreateWidgets1763769600005',
      ]);
      expect(await migrate(source, 'widgets')).toEqual([
        'BaselineWidgets1763769600000',
        'CreateWidgets1763769600005',
      ]);
      expect(await migrate(source, 'widgets')).toEqual([]);
      expect((await schemaState(source, 'widgets')).pending).toEqual([]);
      await expect(pingDatabase(source)).resolves.toBeUndefined();
    } finally {
      await source.destroy();
    }
  });

  it('should name the cause and the fix when PostgreSQL cannot be reached', async () => {
    const url = 'postgres://postgres@127.0.0.1:1/nowhere';
    await expect(
      openDataSource({ ...schema, url, applicationName: 'test', runMigrations: true }),
    ).rejects.toThrow(
      /Cannot connect to PostgreSQL for schema "widgets": .*Start PostgreSQL or fix DATABASE_URL/,
    );
  });
});
