import type { MigrationInterface, QueryRunner } from 'typeorm';

// WARNING: the class name is persisted in audit.migrations; never rename it.
export class Runs1763769600001 implements MigrationInterface {
  name = 'Runs1763769600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The one rule that keeps a Run from moving backwards: an event only applies when its status
    // ranks higher than the stored one, so `started` after a terminal event and a second terminal
    // event (duplicate or redelivery) change nothing.
    await queryRunner.query(`
      CREATE FUNCTION "audit"."run_status_rank"(status text) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT CASE WHEN status = 'running' THEN 1 ELSE 2 END::smallint $$`);
    await queryRunner.query(`
      CREATE TABLE "audit"."runs" (
        "run_id" text PRIMARY KEY,
        "project_id" uuid NOT NULL,
        "integration_id" uuid NOT NULL,
        "api_key_id" text NOT NULL,
        "principal_kind" text NOT NULL,
        "member_id" uuid,
        "member_external_id" text,
        "request_id" jsonb,
        "trace_id" text,
        "tool_id" uuid,
        "tool_name" text NOT NULL,
        "tool_version" integer NOT NULL,
        "method" text,
        "upstream_host" text,
        "status" text NOT NULL
          CHECK ("status" IN ('running', 'succeeded', 'failed', 'indeterminate', 'rejected')),
        "upstream_status" integer,
        "error_code" text,
        "error_message" text,
        "attempts" integer NOT NULL,
        "replayed" boolean NOT NULL,
        "replayed_from_run_id" text,
        "idempotency_key" text NOT NULL,
        "started_at" timestamptz NOT NULL,
        "finished_at" timestamptz,
        "duration_ms" double precision,
        "upstream_ms" double precision,
        "request_bytes" integer,
        "response_bytes" integer,
        "tool_list_version" integer,
        "scopes" text[],
        "executor" text NOT NULL,
        "review_decision" text,
        "reviewer" text,
        "review_reason" text,
        "reviewed_at" timestamptz,
        "final_action_id" text,
        "last_event" text NOT NULL,
        "stream_sequence" bigint,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // Run history without filters (a backward scan gives newest first with the keyset cursor), and
    // usage: the INCLUDE columns make the usage aggregation an index-only range scan of one project.
    await queryRunner.query(`
      CREATE INDEX "runs_project_started" ON "audit"."runs" ("project_id", "started_at", "run_id")
      INCLUDE ("status", "duration_ms", "tool_name", "member_id", "member_external_id", "integration_id")`);
    // One index per history filter that can be selective within a project; status is not one
    // (five values) and rides the index above.
    await queryRunner.query(
      `CREATE INDEX "runs_project_tool" ON "audit"."runs" ("project_id", "tool_name", "started_at", "run_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "runs_project_member" ON "audit"."runs" ("project_id", "member_id", "started_at", "run_id") WHERE "member_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "runs_project_key" ON "audit"."runs" ("project_id", "api_key_id", "started_at", "run_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "runs_project_integration" ON "audit"."runs" ("project_id", "integration_id", "started_at", "run_id")`,
    );
    // Retention deletes the oldest Runs of every project in batches.
    await queryRunner.query(`CREATE INDEX "runs_started" ON "audit"."runs" ("started_at")`);
    await queryRunner.query(`
      CREATE TABLE "audit"."parked_events" (
        "id" bigserial PRIMARY KEY,
        "source" text NOT NULL CHECK ("source" IN ('jetstream', 'bus')),
        "stream" text,
        "stream_sequence" bigint,
        "subject" text NOT NULL,
        "delivery_count" integer NOT NULL,
        "reason" text NOT NULL,
        "payload" text,
        "parked_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // A redelivered poison message (its ack was lost) is parked once.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "parked_events_message" ON "audit"."parked_events" ("stream", "stream_sequence") WHERE "stream_sequence" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "parked_events_parked_at" ON "audit"."parked_events" ("parked_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit"."parked_events"`);
    await queryRunner.query(`DROP TABLE "audit"."runs"`);
    await queryRunner.query(`DROP FUNCTION "audit"."run_status_rank"(text)`);
  }
}
