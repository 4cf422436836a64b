import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { UsageStats } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

import type { TimeRange } from '../runs/time-range.js';

/** Which breakdown a usage row belongs to. */
export type UsageDimension = 'total' | 'tool' | 'member' | 'integration' | 'day';

/** One aggregated row: its dimension, the key within it, and the stats. */
export interface UsageRow {
  readonly dimension: UsageDimension;
  readonly toolName: string | null;
  readonly memberId: string | null;
  readonly memberExternalId: string | null;
  readonly integrationId: string | null;
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string | null;
  readonly stats: UsageStats;
}

interface RawUsageRow {
  by_tool: number;
  by_member: number;
  by_integration: number;
  by_day: number;
  tool_name: string | null;
  member_id: string | null;
  member_external_id: string | null;
  integration_id: string | null;
  day: string | null;
  runs: number;
  running: number;
  succeeded: number;
  failed: number;
  indeterminate: number;
  rejected: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/**
 * One pass over the project's Runs in the range, every breakdown at once (GROUPING SETS). The range
 * scan reads only `runs_project_started`, whose INCLUDE columns hold everything aggregated here, so
 * the cost is the number of the project's Runs in the range, never the table size. `GROUPING(x)` is
 * 0 in the rows grouped by `x`.
 */
export const USAGE_SQL = `
  SELECT
    GROUPING(tool_name)::int AS by_tool,
    GROUPING(member_id)::int AS by_member,
    GROUPING(integration_id)::int AS by_integration,
    GROUPING(day)::int AS by_day,
    tool_name,
    member_id::text AS member_id,
    max(member_external_id) AS member_external_id,
    integration_id::text AS integration_id,
    to_char(day, 'YYYY-MM-DD') AS day,
    count(*)::int AS runs,
    count(*) FILTER (WHERE status = 'running')::int AS running,
    count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
    count(*) FILTER (WHERE status = 'failed')::int AS failed,
    count(*) FILTER (WHERE status = 'indeterminate')::int AS indeterminate,
    count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status <> 'running') AS p50_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status <> 'running') AS p95_ms
  FROM (
    SELECT tool_name, member_id, member_external_id, integration_id, status, duration_ms,
           (started_at AT TIME ZONE 'UTC')::date AS day
    FROM audit.runs
    WHERE project_id = $1 AND started_at >= $2 AND started_at < $3
  ) project_runs
  GROUP BY GROUPING SETS ((), (tool_name), (member_id), (integration_id), (day))`;

function dimensionOf(row: RawUsageRow): UsageDimension {
  if (row.by_tool === 0) return 'tool';
  if (row.by_member === 0) return 'member';
  if (row.by_integration === 0) return 'integration';
  if (row.by_day === 0) return 'day';
  return 'total';
}

/** Milliseconds to the microsecond, so replies stay readable. */
function roundMs(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** Counts, error rate and latency percentiles of one group of Runs. */
export function usageStats(row: {
  runs: number;
  running: number;
  succeeded: number;
  failed: number;
  indeterminate: number;
  rejected: number;
  p50_ms: number | null;
  p95_ms: number | null;
}): UsageStats {
  const finished = row.runs - row.running;
  return {
    runs: row.runs,
    running: row.running,
    succeeded: row.succeeded,
    failed: row.failed,
    indeterminate: row.indeterminate,
    rejected: row.rejected,
    error_rate: finished === 0 ? null : (finished - row.succeeded) / finished,
    p50_ms: roundMs(row.p50_ms),
    p95_ms: roundMs(row.p95_ms),
  };
}

/** Usage aggregation over audit.runs, always for one project. */
@Injectable()
export class UsageRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async aggregate(projectId: string, range: TimeRange): Promise<UsageRow[]> {
    const rows = await this.dataSource.query<RawUsageRow[]>(USAGE_SQL, [
      projectId,
      range.from,
      range.to,
    ]);
    return rows.map((row) => ({
      dimension: dimensionOf(row),
      toolName: row.tool_name,
      memberId: row.member_id,
      memberExternalId: row.member_external_id,
      integrationId: row.integration_id,
      day: row.day,
      stats: usageStats(row),
    }));
  }
}
