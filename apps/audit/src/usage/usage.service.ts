import { Injectable } from '@nestjs/common';

import {
  AUDIT_USAGE_BREAKDOWN_LIMIT,
  type GetUsageRequest,
  type UsageReport,
  type UsageStats,
} from '@tengine/contracts';

import { usageRange } from '../runs/time-range.js';
import { UsageRepository, usageStats, type UsageRow } from './usage.repository.js';

const EMPTY: UsageStats = usageStats({
  runs: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  indeterminate: 0,
  rejected: 0,
  p50_ms: null,
  p95_ms: null,
});

/** The busiest first, ties by key, cut to the breakdown limit. */
function busiest<T extends UsageStats>(
  rows: T[],
  key: (row: T) => string,
): { rows: T[]; truncated: boolean } {
  const sorted = [...rows].sort(
    (left, right) => right.runs - left.runs || key(left).localeCompare(key(right)),
  );
  return {
    rows: sorted.slice(0, AUDIT_USAGE_BREAKDOWN_LIMIT),
    truncated: sorted.length > AUDIT_USAGE_BREAKDOWN_LIMIT,
  };
}

/** Assembles the usage report of one project from the aggregated rows. */
export function usageReport(
  rows: readonly UsageRow[],
  range: { from: Date; to: Date },
): UsageReport {
  const of = (dimension: UsageRow['dimension']) =>
    rows.filter((row) => row.dimension === dimension);
  const tools = busiest(
    of('tool').map((row) => ({ tool_name: row.toolName ?? '', ...row.stats })),
    (row) => row.tool_name,
  );
  const members = busiest(
    of('member').map((row) => ({
      member_id: row.memberId,
      member_external_id: row.memberExternalId,
      ...row.stats,
    })),
    (row) => row.member_id ?? '',
  );
  const integrations = busiest(
    of('integration').map((row) => ({ integration_id: row.integrationId ?? '', ...row.stats })),
    (row) => row.integration_id,
  );
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    totals: of('total')[0]?.stats ?? EMPTY,
    by_tool: tools.rows,
    by_member: members.rows,
    by_integration: integrations.rows,
    by_day: of('day')
      .map((row) => ({ day: row.day ?? '', ...row.stats }))
      .sort((left, right) => left.day.localeCompare(right.day)),
    truncated: {
      by_tool: tools.truncated,
      by_member: members.truncated,
      by_integration: integrations.truncated,
    },
  };
}

/** Usage of one project over a time range. */
@Injectable()
export class UsageService {
  constructor(private readonly repository: UsageRepository) {}

  async get(request: GetUsageRequest, now = new Date()): Promise<UsageReport> {
    const range = usageRange(request.from, request.to, now);
    return usageReport(await this.repository.aggregate(request.projectId, range), range);
  }
}
