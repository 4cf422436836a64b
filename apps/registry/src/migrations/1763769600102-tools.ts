import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in registry.migrations; never rename it.
export class Tools1763769600102 implements MigrationInterface {
  name = 'Tools1763769600102';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The head row: identity, current version and live state. Soft-deleted rows keep their id for
    // run history and free their name.
    await queryRunner.query(`
      CREATE TABLE "registry"."tools" (
        "id" uuid PRIMARY KEY,
        "project_id" uuid NOT NULL REFERENCES "registry"."projects" ("id"),
        "name" text NOT NULL,
        "version" integer NOT NULL CHECK ("version" >= 1),
        "is_enabled" boolean NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX "tools_live_name"
        ON "registry"."tools" ("project_id", "name") WHERE "deleted_at" IS NULL`);
    // One immutable row per version, so a call in flight uses one consistent definition. Only
    // secret rotation rewrites "auth_secret" (same plaintext, newer key). json, not jsonb: the
    // schema's property order is what models see.
    await queryRunner.query(`
      CREATE TABLE "registry"."tool_versions" (
        "tool_id" uuid NOT NULL REFERENCES "registry"."tools" ("id"),
        "version" integer NOT NULL CHECK ("version" >= 1),
        "project_id" uuid NOT NULL REFERENCES "registry"."projects" ("id"),
        "name" text NOT NULL,
        "description" text NOT NULL,
        "method" text NOT NULL CHECK ("method" IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
        "base_url" text NOT NULL,
        "endpoint_path" text NOT NULL,
        "query_template" json,
        "header_template" json,
        "body_template" json,
        "input_schema" json NOT NULL,
        "auth_strategy" text NOT NULL CHECK ("auth_strategy" IN ('none', 'bearer', 'hmac_signature')),
        "auth_secret" text,
        "auth_secret_last4" text,
        "require_member" boolean NOT NULL,
        "is_enabled" boolean NOT NULL,
        "timeout_ms" integer NOT NULL CHECK ("timeout_ms" BETWEEN 100 AND 60000),
        "required_scope" text,
        "annotations" json NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tool_id", "version")
      )`);
    await queryRunner.query(`
      CREATE INDEX "tool_versions_with_secret"
        ON "registry"."tool_versions" ("tool_id", "version") WHERE "auth_secret" IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "registry"."tool_versions"`);
    await queryRunner.query(`DROP TABLE "registry"."tools"`);
  }
}
