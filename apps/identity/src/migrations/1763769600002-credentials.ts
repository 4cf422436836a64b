import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in identity.migrations; never rename it.
export class Credentials1763769600002 implements MigrationInterface {
  name = 'Credentials1763769600002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "identity"."api_keys" (
        "id" text PRIMARY KEY,
        "project_id" uuid NOT NULL,
        "integration_id" uuid NOT NULL,
        "name" text NOT NULL,
        "key_hash" char(64) NOT NULL,
        "last4" text NOT NULL,
        "scopes" text[] NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "revoked_at" timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX "api_keys_project" ON "identity"."api_keys" ("project_id", "created_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "identity"."assertion_keys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "project_id" uuid NOT NULL,
        "kid" text NOT NULL,
        "algorithm" text NOT NULL,
        "public_key" text NOT NULL,
        "active" boolean NOT NULL DEFAULT true,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "deactivated_at" timestamptz
      )`);
    // One active key per kid and project; deactivated ones may repeat a kid (rotation history).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "assertion_keys_active_kid" ON "identity"."assertion_keys" ("project_id", "kid") WHERE "active"`,
    );
    await queryRunner.query(`
      CREATE TABLE "identity"."members" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "project_id" uuid NOT NULL,
        "external_id" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_seen_at" timestamptz NOT NULL DEFAULT now(),
        UNIQUE ("project_id", "external_id")
      )`);
    await queryRunner.query(`
      CREATE TABLE "identity"."used_assertions" (
        "project_id" uuid NOT NULL,
        "jti" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        PRIMARY KEY ("project_id", "jti")
      )`);
    await queryRunner.query(
      `CREATE INDEX "used_assertions_expiry" ON "identity"."used_assertions" ("expires_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "identity"."sessions" (
        "id" uuid PRIMARY KEY,
        "project_id" uuid NOT NULL,
        "api_key_id" text NOT NULL,
        "member_id" uuid NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "revoked_at" timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX "sessions_expiry" ON "identity"."sessions" ("expires_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "identity"."signing_keys" (
        "kid" text PRIMARY KEY,
        "private_key_sealed" text NOT NULL,
        "public_jwk" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "retired_at" timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'signing_keys',
      'sessions',
      'used_assertions',
      'members',
      'assertion_keys',
      'api_keys',
    ]) {
      await queryRunner.query(`DROP TABLE "identity"."${table}"`);
    }
  }
}
