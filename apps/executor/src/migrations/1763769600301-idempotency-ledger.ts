import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in executor.migrations; never rename it.
export class IdempotencyLedger1763769600301 implements MigrationInterface {
  name = 'IdempotencyLedger1763769600301';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per (project, principal, key): the claim that makes a call execute at most once, and
    // then its stored result for replays. run_context and terminal_event hold Run event payloads
    // (no secrets, no arguments) so any replica can finish or republish a Run another one started.
    await queryRunner.query(`
      CREATE TABLE "executor"."idempotency_keys" (
        "project_id" uuid NOT NULL,
        "principal" text NOT NULL,
        "idempotency_key" text NOT NULL,
        "fingerprint" char(64) NOT NULL,
        "state" text NOT NULL CHECK ("state" IN ('in_flight', 'completed', 'released')),
        "run_id" char(26) NOT NULL,
        "retry_safe" boolean NOT NULL,
        "run_context" jsonb NOT NULL,
        "lease_until" timestamptz NOT NULL,
        "result" jsonb,
        "terminal_event" jsonb,
        "terminal_published" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        PRIMARY KEY ("project_id", "principal", "idempotency_key")
      )`);
    await queryRunner.query(
      `CREATE INDEX "idempotency_keys_leases" ON "executor"."idempotency_keys" ("lease_until") WHERE "state" = 'in_flight'`,
    );
    await queryRunner.query(
      `CREATE INDEX "idempotency_keys_unpublished" ON "executor"."idempotency_keys" ("updated_at") WHERE NOT "terminal_published" AND "state" <> 'in_flight'`,
    );
    await queryRunner.query(
      `CREATE INDEX "idempotency_keys_expiry" ON "executor"."idempotency_keys" ("expires_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "executor"."idempotency_keys"`);
  }
}
