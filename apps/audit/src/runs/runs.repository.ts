import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { RunStatus, RunView } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

import type { RunCursor } from './cursor.js';
import type { RunRecord } from './run-record.js';

/** Filters of a run history page; every one is optional except the project. */
export interface RunFilter {
  readonly projectId: string;
  readonly toolName?: string | undefined;
  readonly memberId?: string | undefined;
  readonly memberExternalId?: string | undefined;
  readonly status?: RunStatus | undefined;
  readonly apiKeyId?: string | undefined;
  readonly integrationId?: string | undefined;
  readonly from: Date | null;
  readonly to: Date | null;
}

/** A stored Run and its exact position for the next page's cursor. */
export interface StoredRun {
  readonly view: RunView;
  readonly cursor: RunCursor;
}

interface RunRow {
  run_id: string;
  request_id: string | number | null;
  trace_id: string | null;
  project_id: string;
  integration_id: string;
  api_key_id: string;
  principal_kind: RunView['principal_kind'];
  member_id: string | null;
  member_external_id: string | null;
  tool_id: string | null;
  tool_name: string;
  tool_version: number;
  method: string | null;
  upstream_host: string | null;
  status: RunStatus;
  upstream_status: number | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  replayed: boolean;
  replayed_from_run_id: string | null;
  idempotency_key: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  upstream_ms: number | null;
  request_bytes: number | null;
  response_bytes: number | null;
  tool_list_version: number | null;
  scopes: string[] | null;
  review_decision: string | null;
  reviewer: string | null;
  review_reason: string | null;
  reviewed_at: Date | null;
  final_action_id: string | null;
  executor: string;
  recorded_at: Date;
  updated_at: Date;
  cursor_started_at: string;
}

const COLUMNS = `run_id, request_id, trace_id, project_id, integration_id, api_key_id, principal_kind,
  member_id, member_external_id, tool_id, tool_name, tool_version, method, upstream_host, status,
  upstream_status, error_code, error_message, attempts, replayed, replayed_from_run_id,
  idempotency_key, started_at, finished_at, duration_ms, upstream_ms, request_bytes, response_bytes,
  tool_list_version, scopes, review_decision, reviewer, review_reason, reviewed_at, final_action_id,
  executor, recorded_at, updated_at,
  to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_started_at`;

/** The columns an event writes, with their SQL types, in `jsonb_to_recordset` form. */
const RECORD_COLUMNS = `run_id text, project_id uuid, integration_id uuid, api_key_id text,
  principal_kind text, member_id uuid, member_external_id text, request_id jsonb, trace_id text,
  tool_id uuid, tool_name text, tool_version integer, method text, upstream_host text, status text,
  upstream_status integer, error_code text, error_message text, attempts integer, replayed boolean,
  replayed_from_run_id text, idempotency_key text, started_at timestamptz, finished_at timestamptz,
  duration_ms double precision, upstream_ms double precision, request_bytes integer,
  response_bytes integer, tool_list_version integer, scopes text[], executor text, last_event text,
  stream_sequence bigint`;

const INSERT_COLUMNS = RECORD_COLUMNS.split(',')
  .map((column) => column.trim().split(/\s+/)[0])
  .join(', ');

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

function toStoredRun(row: RunRow): StoredRun {
  return {
    view: {
      run_id: row.run_id,
      request_id: row.request_id,
      trace_id: row.trace_id,
      project_id: row.project_id,
      integration_id: row.integration_id,
      api_key_id: row.api_key_id,
      principal_kind: row.principal_kind,
      member_id: row.member_id,
      member_external_id: row.member_external_id,
      tool_id: row.tool_id,
      tool_name: row.tool_name,
      tool_version: row.tool_version,
      method: row.method,
      upstream_host: row.upstream_host,
      status: row.status,
      upstream_status: row.upstream_status,
      error_code: row.error_code,
      error_message: row.error_message,
      attempts: row.attempts,
      replayed: row.replayed,
      replayed_from_run_id: row.replayed_from_run_id,
      idempotency_key: row.idempotency_key,
      started_at: row.started_at.toISOString(),
      finished_at: iso(row.finished_at),
      duration_ms: row.duration_ms,
      upstream_ms: row.upstream_ms,
      request_bytes: row.request_bytes,
      response_bytes: row.response_bytes,
      tool_list_version: row.tool_list_version,
      scopes: row.scopes,
      review_decision: row.review_decision,
      reviewer: row.reviewer,
      review_reason: row.review_reason,
      reviewed_at: iso(row.reviewed_at),
      final_action_id: row.final_action_id,
      executor: row.executor,
      recorded_at: row.recorded_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    },
    cursor: { startedAt: row.cursor_started_at, runId: row.run_id },
  };
}

function toJsonRecord(record: RunRecord): Record<string, unknown> {
  return {
    run_id: record.runId,
    project_id: record.projectId,
    integration_id: record.integrationId,
    api_key_id: record.apiKeyId,
    principal_kind: record.principalKind,
    member_id: record.memberId,
    member_external_id: record.memberExternalId,
    request_id: record.requestId,
    trace_id: record.traceId,
    tool_id: record.toolId,
    tool_name: record.toolName,
    tool_version: record.toolVersion,
    method: record.method,
    upstream_host: record.upstreamHost,
    status: record.status,
    upstream_status: record.upstreamStatus,
    error_code: record.errorCode,
    error_message: record.errorMessage,
    attempts: record.attempts,
    replayed: record.replayed,
    replayed_from_run_id: record.replayedFromRunId,
    idempotency_key: record.idempotencyKey,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    duration_ms: record.durationMs,
    upstream_ms: record.upstreamMs,
    request_bytes: record.requestBytes,
    response_bytes: record.responseBytes,
    tool_list_version: record.toolListVersion,
    scopes: record.scopes,
    executor: record.executor,
    last_event: record.lastEvent,
    stream_sequence: record.streamSequence,
  };
}

/** The only code touching audit.runs. Every read is scoped to one project. */
@Injectable()
export class RunsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Writes Runs idempotently in one statement and returns the ids of the rows that changed. A row
   * changes only when the event's status ranks above the stored one (`audit.run_status_rank`), so
   * duplicates, redeliveries and late `started` events are no-ops; an event naming a Run id stored
   * under another project changes nothing either. Runs that started before `notBefore` (already
   * past retention) are not written back. Rows are locked in run id order, so concurrent replicas
   * writing overlapping batches cannot deadlock.
   */
  async upsert(records: readonly RunRecord[], notBefore: Date | null): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    const rows = await this.dataSource.query<Array<{ run_id: string }>>(
      `INSERT INTO audit.runs AS r (${INSERT_COLUMNS})
       SELECT ${INSERT_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(${RECORD_COLUMNS})
       WHERE $2::timestamptz IS NULL OR x.started_at >= $2::timestamptz
       ORDER BY x.run_id
       ON CONFLICT (run_id) DO UPDATE SET
         status = EXCLUDED.status,
         last_event = EXCLUDED.last_event,
         request_id = EXCLUDED.request_id,
         trace_id = COALESCE(EXCLUDED.trace_id, r.trace_id),
         tool_id = COALESCE(EXCLUDED.tool_id, r.tool_id),
         method = COALESCE(EXCLUDED.method, r.method),
         upstream_host = COALESCE(EXCLUDED.upstream_host, r.upstream_host),
         upstream_status = EXCLUDED.upstream_status,
         error_code = EXCLUDED.error_code,
         error_message = EXCLUDED.error_message,
         attempts = EXCLUDED.attempts,
         replayed = EXCLUDED.replayed,
         replayed_from_run_id = EXCLUDED.replayed_from_run_id,
         finished_at = EXCLUDED.finished_at,
         duration_ms = EXCLUDED.duration_ms,
         upstream_ms = EXCLUDED.upstream_ms,
         request_bytes = EXCLUDED.request_bytes,
         response_bytes = EXCLUDED.response_bytes,
         tool_list_version = COALESCE(EXCLUDED.tool_list_version, r.tool_list_version),
         scopes = COALESCE(EXCLUDED.scopes, r.scopes),
         executor = EXCLUDED.executor,
         stream_sequence = EXCLUDED.stream_sequence,
         updated_at = now()
       WHERE audit.run_status_rank(r.status) < audit.run_status_rank(EXCLUDED.status)
         AND r.project_id = EXCLUDED.project_id
       RETURNING run_id`,
      [JSON.stringify(records.map(toJsonRecord)), notBefore],
    );
    return new Set(rows.map((row) => row.run_id));
  }

  async findById(projectId: string, runId: string): Promise<StoredRun | undefined> {
    const rows = await this.dataSource.query<RunRow[]>(
      `SELECT ${COLUMNS} FROM audit.runs WHERE project_id = $1 AND run_id = $2`,
      [projectId, runId],
    );
    return rows[0] ? toStoredRun(rows[0]) : undefined;
  }

  /** One page of history, newest first, after `cursor` when given. */
  async list(filter: RunFilter, cursor: RunCursor | null, limit: number): Promise<StoredRun[]> {
    const { sql, parameters } = listQuery(filter, cursor, limit);
    const rows = await this.dataSource.query<RunRow[]>(sql, parameters);
    return rows.map(toStoredRun);
  }

  /**
   * Deletes up to `limit` Runs that started before `cutoff` and returns how many. Rows a writer
   * holds are skipped (`SKIP LOCKED`), so retention never makes the consumer wait.
   */
  async deleteStartedBefore(cutoff: Date, limit: number): Promise<number> {
    const result = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM audit.runs r USING (
         SELECT run_id FROM audit.runs WHERE started_at < $1
         ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ) doomed
       WHERE r.run_id = doomed.run_id`,
      [cutoff, limit],
    );
    return result[1];
  }
}

/** The SQL of one history page; exported for the query-plan test. */
export function listQuery(
  filter: RunFilter,
  cursor: RunCursor | null,
  limit: number,
): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [filter.projectId];
  const conditions = ['project_id = $1'];
  const add = (condition: (placeholder: string) => string, value: unknown): void => {
    parameters.push(value);
    conditions.push(condition(`$${parameters.length}`));
  };
  if (filter.toolName !== undefined) add((p) => `tool_name = ${p}`, filter.toolName);
  if (filter.memberId !== undefined) add((p) => `member_id = ${p}`, filter.memberId);
  if (filter.memberExternalId !== undefined)
    add((p) => `member_external_id = ${p}`, filter.memberExternalId);
  if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
  if (filter.apiKeyId !== undefined) add((p) => `api_key_id = ${p}`, filter.apiKeyId);
  if (filter.integrationId !== undefined) add((p) => `integration_id = ${p}`, filter.integrationId);
  if (filter.from !== null) add((p) => `started_at >= ${p}`, filter.from);
  if (filter.to !== null) add((p) => `started_at < ${p}`, filter.to);
  if (cursor !== null) {
    parameters.push(cursor.startedAt, cursor.runId);
    const at = parameters.length - 1;
    conditions.push(`(started_at, run_id) < ($${at}::timestamptz, $${at + 1})`);
  }
  parameters.push(limit);
  return {
    sql: `SELECT ${COLUMNS} FROM audit.runs WHERE ${conditions.join(' AND ')}
          ORDER BY started_at DESC, run_id DESC LIMIT $${parameters.length}`,
    parameters,
  };
}
