import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in identity.migrations; never rename it.
export class AdminTokens1763769600001 implements MigrationInterface {
  name = 'AdminTokens1763769600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "identity"."admin_tokens" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "token_hash" char(64) NOT NULL UNIQUE,
        "source" text NOT NULL CHECK ("source" IN ('bootstrap', 'environment')),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz
      )`);
    // At most one live generated token: two replicas bootstrapping at once cannot both create one.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "admin_tokens_one_live_bootstrap"
        ON "identity"."admin_tokens" ("source") WHERE "source" = 'bootstrap' AND "revoked_at" IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "identity"."admin_tokens"`);
  }
}
