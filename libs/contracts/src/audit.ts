/**
 * Contracts of the audit service: the Run record as customers see it, run history and usage
 * queries, and the JSON Schema of the Run events external consumers read from JetStream.
 *
 * Request fields are camelCase where they are set by the gateway (`projectId`) and snake_case where
 * they come from the customer's query string; replies are snake_case, as returned over HTTP.
 */
import { z } from 'zod';

import { JsonRpcIdSchema, RUN_OUTCOMES, RunEventSchema } from './executor.js';
import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by the audit service. WARNING: persisted by clients; never rename one. */
export const AUDIT_ERROR_CODES = [
  /** No Run with this id in the caller's project (other projects' Runs are never revealed). */
  'AUDIT_RUN_NOT_FOUND',
  /** The `cursor` is not a `next_cursor` this API returned. */
  'AUDIT_CURSOR_INVALID',
  /** `from` is not before `to`, or the range is longer than {@link AUDIT_MAX_RANGE_DAYS}. */
  'AUDIT_TIME_RANGE_INVALID',
] as const;

/** One of {@link AUDIT_ERROR_CODES}. */
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/** Longest time range one usage request may span. */
export const AUDIT_MAX_RANGE_DAYS = 93;
/** Range of a usage request that gives no `from`: the last 7 days. */
export const AUDIT_DEFAULT_RANGE_DAYS = 7;
/** Largest page of run history. */
export const AUDIT_MAX_PAGE_SIZE = 200;
/** Page size when the request gives none. */
export const AUDIT_DEFAULT_PAGE_SIZE = 50;
/** Most rows of each usage breakdown (the busiest first). */
export const AUDIT_USAGE_BREAKDOWN_LIMIT = 100;

// ---------------------------------------------------------------------------------------------
// The Run record
// ---------------------------------------------------------------------------------------------

/** Where a Run stands: `running` until its terminal event, then its outcome (never moves back). */
export const RUN_STATUSES = ['running', ...RUN_OUTCOMES] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** An ISO 8601 instant with an offset, e.g. `2025-11-22T10:00:00Z`. */
const InstantSchema = z.iso.datetime({ offset: true });

/**
 * One Run as stored by audit and returned by `GET /api/v1/runs/{run_id}`. Never holds arguments,
 * response bodies or secrets. The review fields stay null until approval flows record them (the
 * reference's write-action review: decision, reviewer, reason, timestamp, final action id).
 */
export const RunViewSchema = z.object({
  run_id: z.string(),
  /** The JSON-RPC id of the `tools/call`. */
  request_id: JsonRpcIdSchema,
  /** W3C trace id: open the trace of this Run in your tracing backend with it. */
  trace_id: z.string().nullable(),
  project_id: z.string().uuid(),
  integration_id: z.string().uuid(),
  /** The API key the call was authenticated with (directly or through a member session). */
  api_key_id: z.string(),
  principal_kind: z.enum(['api_key', 'member_session']),
  member_id: z.string().uuid().nullable(),
  member_external_id: z.string().nullable(),
  tool_id: z.string().uuid().nullable(),
  tool_name: z.string(),
  tool_version: z.number().int(),
  method: z.string().nullable(),
  upstream_host: z.string().nullable(),
  status: RunStatusSchema,
  upstream_status: z.number().int().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  attempts: z.number().int().min(0),
  replayed: z.boolean(),
  replayed_from_run_id: z.string().nullable(),
  idempotency_key: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  upstream_ms: z.number().nullable(),
  request_bytes: z.number().int().nullable(),
  response_bytes: z.number().int().nullable(),
  /** The project's tool-list version the principal saw, when the executor reported it. */
  tool_list_version: z.number().int().nullable(),
  /** The scopes the call was made with, when the executor reported them. */
  scopes: z.array(z.string()).nullable(),
  review_decision: z.string().nullable(),
  reviewer: z.string().nullable(),
  review_reason: z.string().nullable(),
  reviewed_at: z.string().nullable(),
  final_action_id: z.string().nullable(),
  /** The executor replica that ran the call. */
  executor: z.string(),
  /** When audit first stored the Run. */
  recorded_at: z.string(),
  /** When audit last changed the Run. */
  updated_at: z.string(),
});
export type RunView = z.infer<typeof RunViewSchema>;

// ---------------------------------------------------------------------------------------------
// rpc.audit.run.list.v1 / rpc.audit.run.get.v1
// ---------------------------------------------------------------------------------------------

/**
 * Request of `rpc.audit.run.list.v1`: the project's Runs, newest first (by start time), filtered.
 * `from` is inclusive and `to` exclusive; `cursor` is the `next_cursor` of the previous page and
 * must be sent with the same filters.
 */
export const ListRunsRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    /** Tool name. */
    tool: z.string().min(1).max(128).optional(),
    /** Member id (as returned when the member's session token was minted). */
    member: z.string().uuid().optional(),
    /** The member's id in the customer's system (`sub` of the member assertion). */
    member_external_id: z.string().min(1).max(256).optional(),
    status: RunStatusSchema.optional(),
    from: InstantSchema.optional(),
    to: InstantSchema.optional(),
    /** API key id. */
    key: z.string().min(1).max(128).optional(),
    /** Integration id. */
    integration: z.string().uuid().optional(),
    cursor: z.string().max(400).optional(),
    limit: z.number().int().min(1).max(AUDIT_MAX_PAGE_SIZE).optional(),
  })
  .strict();
export type ListRunsRequest = z.infer<typeof ListRunsRequestSchema>;

/** Reply of `rpc.audit.run.list.v1`; `next_cursor` is null on the last page. */
export const RunPageSchema = z.object({
  items: z.array(RunViewSchema),
  next_cursor: z.string().nullable(),
});
export type RunPage = z.infer<typeof RunPageSchema>;

/** Request of `rpc.audit.run.get.v1`. An unknown or foreign id is `AUDIT_RUN_NOT_FOUND`. */
export const GetRunRequestSchema = z
  .object({ projectId: z.string().uuid(), runId: z.string().min(1).max(64) })
  .strict();
export type GetRunRequest = z.infer<typeof GetRunRequestSchema>;

// ---------------------------------------------------------------------------------------------
// rpc.audit.usage.get.v1
// ---------------------------------------------------------------------------------------------

/** Request of `rpc.audit.usage.get.v1`: `from` defaults to 7 days before `to`, `to` to now. */
export const GetUsageRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    from: InstantSchema.optional(),
    to: InstantSchema.optional(),
  })
  .strict();
export type GetUsageRequest = z.infer<typeof GetUsageRequestSchema>;

/**
 * Counts and latency of a set of Runs. `error_rate` is the share of finished Runs that did not
 * succeed (null when none finished); latencies are over finished Runs with a duration.
 */
export const UsageStatsSchema = z.object({
  runs: z.number().int().min(0),
  running: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  indeterminate: z.number().int().min(0),
  rejected: z.number().int().min(0),
  error_rate: z.number().min(0).max(1).nullable(),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
});
export type UsageStats = z.infer<typeof UsageStatsSchema>;

/**
 * Reply of `rpc.audit.usage.get.v1`. Breakdowns hold at most {@link AUDIT_USAGE_BREAKDOWN_LIMIT}
 * rows each, busiest first (`by_day` oldest first, every day with Runs); `truncated` says a
 * breakdown was cut. Runs of API keys without a member are the `member_id: null` row.
 */
export const UsageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  totals: UsageStatsSchema,
  by_tool: z.array(UsageStatsSchema.extend({ tool_name: z.string() })),
  by_member: z.array(
    UsageStatsSchema.extend({
      member_id: z.string().nullable(),
      member_external_id: z.string().nullable(),
    }),
  ),
  by_integration: z.array(UsageStatsSchema.extend({ integration_id: z.string() })),
  /** UTC days, `YYYY-MM-DD`. */
  by_day: z.array(UsageStatsSchema.extend({ day: z.string() })),
  truncated: z.object({
    by_tool: z.boolean(),
    by_member: z.boolean(),
    by_integration: z.boolean(),
  }),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;

// ---------------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------------

export const AUDIT_SUBJECTS = {
  statusGet: 'rpc.audit.status.get.v1',
  runList: 'rpc.audit.run.list.v1',
  runGet: 'rpc.audit.run.get.v1',
  usageGet: 'rpc.audit.usage.get.v1',
} as const;

export const AUDIT_RPC = {
  [AUDIT_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [AUDIT_SUBJECTS.runList]: rpc(ListRunsRequestSchema, RunPageSchema),
  [AUDIT_SUBJECTS.runGet]: rpc(GetRunRequestSchema, RunViewSchema),
  [AUDIT_SUBJECTS.usageGet]: rpc(GetUsageRequestSchema, UsageReportSchema),
} as const;

/** Events the audit service publishes. */
export const AUDIT_EVENTS = {} as const;

// ---------------------------------------------------------------------------------------------
// Run events for external consumers
// ---------------------------------------------------------------------------------------------

/** `$id` of the published JSON Schema of Run events (`docs/run-event.schema.json`). */
export const RUN_EVENT_JSON_SCHEMA_ID = 'https://tengine.dev/schemas/run-event.v1.json';

/**
 * The JSON Schema (draft 2020-12) of the payload of every Run event, generated from
 * `RunEventSchema`, so customers' consumers validate against exactly what the executor publishes.
 */
export function runEventJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunEventSchema, { target: 'draft-2020-12', io: 'output' });
  return {
    $schema: schema['$schema'],
    $id: RUN_EVENT_JSON_SCHEMA_ID,
    title: 'tengine Run event',
    description:
      'Payload of a JetStream message on runs.<project_id>.<event> (event: started, succeeded, failed, indeterminate, rejected). Nats-Msg-Id is <run_id>.<event>.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
