import { AUDIT_USAGE_BREAKDOWN_LIMIT } from '@tengine/contracts';

import type { UsageRow } from './usage.repository.js';
import { usageStats } from './usage.repository.js';
import { usageReport } from './usage.service.js';

const stats = (runs: number, succeeded = runs) =>
  usageStats({
    runs,
    running: 0,
    succeeded,
    failed: runs - succeeded,
    indeterminate: 0,
    rejected: 0,
    p50_ms: 12.34567,
    p95_ms: 99,
  });

const row = (dimension: UsageRow['dimension'], overrides: Partial<UsageRow>): UsageRow => ({
  dimension,
  toolName: null,
  memberId: null,
  memberExternalId: null,
  integrationId: null,
  day: null,
  stats: stats(1),
  ...overrides,
});

const range = { from: new Date('2025-11-15T00:00:00Z'), to: new Date('2025-11-22T00:00:00Z') };

describe('usageStats', () => {
  it('should compute the error rate over finished runs only', () => {
    expect(
      usageStats({
        runs: 10,
        running: 2,
        succeeded: 6,
        failed: 1,
        indeterminate: 0,
        rejected: 1,
        p50_ms: 1.23456,
        p95_ms: null,
      }),
    ).toEqual({
      runs: 10,
      running: 2,
      succeeded: 6,
      failed: 1,
      indeterminate: 0,
      rejected: 1,
      error_rate: 0.25,
      p50_ms: 1.235,
      p95_ms: null,
    });
  });

  it('should have no error rate when nothing finished', () => {
    expect(stats(0).error_rate).toBeNull();
  });
});

describe('usageReport', () => {
  it('should sort breakdowns busiest first and days oldest first', () => {
    const report = usageReport(
      [
        row('total', { stats: stats(6) }),
        row('tool', { toolName: 'a', stats: stats(1) }),
        row('tool', { toolName: 'b', stats: stats(5, 4) }),
        row('member', { memberId: null, stats: stats(6) }),
        row('day', { day: '2025-11-20', stats: stats(2) }),
        row('day', { day: '2025-11-18', stats: stats(4) }),
      ],
      range,
    );
    expect(report.from).toBe('2025-11-15T00:00:00.000Z');
    expect(report.totals.runs).toBe(6);
    expect(report.by_tool.map((entry) => [entry.tool_name, entry.runs, entry.error_rate])).toEqual([
      ['b', 5, 0.2],
      ['a', 1, 0],
    ]);
    expect(report.by_member).toEqual([
      expect.objectContaining({ member_id: null, member_external_id: null, runs: 6 }),
    ]);
    expect(report.by_day.map((entry) => entry.day)).toEqual(['2025-11-18', '2025-11-20']);
    expect(report.truncated).toEqual({ by_tool: false, by_member: false, by_integration: false });
  });

  it('should report zeros for a range without runs', () => {
    const report = usageReport([], range);
    expect(report.totals).toEqual(expect.objectContaining({ runs: 0, error_rate: null }));
    expect(report.by_tool).toEqual([]);
  });

  it('should cut a breakdown to the limit and say so', () => {
    const tools = Array.from({ length: AUDIT_USAGE_BREAKDOWN_LIMIT + 5 }, (_, index) =>
      row('tool', { toolName: `tool_${index}`, stats: stats(index + 1) }),
    );
    const report = usageReport(tools, range);
    expect(report.by_tool).toHaveLength(AUDIT_USAGE_BREAKDOWN_LIMIT);
    expect(report.by_tool[0]?.runs).toBe(AUDIT_USAGE_BREAKDOWN_LIMIT + 5);
    expect(report.truncated.by_tool).toBe(true);
  });
});
