import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in registry.migrations; never rename it.
export class ProjectsIntegrations1763769600101 implements MigrationInterface {
  name = 'ProjectsIntegrations1763769600101';

  async up(queryRunner: QueryRunner): Promise<void> {
    // tool_list_version grows with every tool change of the project, in the same transaction:
    // gateways key their cached tool lists on (project, tool_list_version).
    await queryRunner.query(`
      CREATE TABLE "registry"."projects" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "name" text NOT NULL CHECK (char_length("name") BETWEEN 1 AND 100),
        "environment" text NOT NULL CHECK ("environment" IN ('development', 'production')),
        "tool_list_version" bigint NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "projects_created_at_id" ON "registry"."projects" ("created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "registry"."integrations" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "project_id" uuid NOT NULL REFERENCES "registry"."projects" ("id"),
        "kind" text NOT NULL CHECK ("kind" IN ('claude_desktop', 'cursor', 'sdk', 'custom')),
        "name" text NOT NULL CHECK (char_length("name") BETWEEN 1 AND 100),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz
      )`);
    await queryRunner.query(`
      CREATE INDEX "integrations_live_by_project"
        ON "registry"."integrations" ("project_id", "created_at") WHERE "deleted_at" IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "registry"."integrations"`);
    await queryRunner.query(`DROP TABLE "registry"."projects"`);
  }
}
