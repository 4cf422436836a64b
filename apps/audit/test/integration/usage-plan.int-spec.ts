import { Subjects } from '@tengine/contracts';
import { InProcessBroker } from '@tengine/messaging';
import type { RunningService } from '@tengine/runtime';
import { createTestDatabase, type TestDatabase } from '@tengine/testing';

import { startEmbeddedAudit } from '../support/audit-harness.js';
import { listQuery, type RunFilter } from '../../src/runs/runs.repository.js';
import { USAGE_SQL } from '../../src/usage/usage.repository.js';

const SEEDED_RUNS = 200_000;

/** A node of PostgreSQL's JSON plan. */
interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly 'Scan Direction'?: string;
  readonly 'Relation Name'?: string;
  readonly Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

describe('usage and history query plans on a large runs table', () => {
  let database: TestDatabase;
  let audit: RunningService;
  let projectId: string;
  const seedIds = { member: '', integration: '' };

  beforeAll(async () => {
    database = await createTestDatabase();
    audit = await startEmbeddedAudit(database.url, new InProcessBroker(), {
      AUDIT_RETENTION_DAYS: '0',
    });
    // Deterministic RFC 4122 ids (version 4, variant 10) from a seed text.
    await audit.dataSource.query(`
      CREATE FUNCTION public.seed_uuid(seed text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
        SELECT overlay(overlay(md5(seed) placing '4' from 13) placing '8' from 17)::uuid
      $$`);
    // 20 projects, 60 integrations, 500 members, 50 tools, 90 days of history.
    await audit.dataSource.query(
      `INSERT INTO audit.runs (run_id, project_id, integration_id, api_key_id, principal_kind,
         member_id, member_external_id, request_id, trace_id, tool_id, tool_name, tool_version,
         method, upstream_host, status, attempts, replayed, idempotency_key, started_at,
         finished_at, duration_ms, upstream_ms, executor, last_event)
       SELECT
         lpad(g::text, 26, '0'),
         public.seed_uuid('project' || (g % 20)),
         public.seed_uuid('integration' || (g % 60)),
         'key_' || (g % 60),
         CASE WHEN g % 3 = 0 THEN 'member_session' ELSE 'api_key' END,
         CASE WHEN g % 3 = 0 THEN public.seed_uuid('member' || (g % 500)) END,
         CASE WHEN g % 3 = 0 THEN 'user-' || (g % 500) END,
         to_jsonb(g),
         md5('trace' || g),
         public.seed_uuid('tool' || (g % 50)),
         'tool_' || (g % 50),
         1,
         'POST',
         'api.example.com',
         CASE g % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'running' ELSE 'succeeded' END,
         1,
         false,
         'idem-' || g,
         now() - (g % 129600) * interval '1 minute',
         CASE WHEN g % 10 <> 1 THEN now() - (g % 129600) * interval '1 minute' + interval '1 second' END,
         CASE WHEN g % 10 <> 1 THEN (g % 997)::float8 END,
         CASE WHEN g % 10 <> 1 THEN (g % 991)::float8 END,
         'executor-seed',
         CASE g % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'started' ELSE 'succeeded' END
       FROM generate_series(1, ${SEEDED_RUNS}) AS g`,
    );
    // What autovacuum does on its own: statistics, and the visibility map index-only scans need.
    await audit.dataSource.query('VACUUM ANALYZE audit.runs');
    const [row] = await audit.dataSource.query<
      Array<{ project: string; member: string; integration: string }>
    >(
      `SELECT public.seed_uuid('project0')::text AS project, public.seed_uuid('member0')::text AS member,
              public.seed_uuid('integration0')::text AS integration`,
    );
    projectId = row?.project ?? '';
    seedIds.member = row?.member ?? '';
    seedIds.integration = row?.integration ?? '';
  });

  afterAll(async () => {
    await audit?.close();
    await database?.drop();
  });

  async function plan(sql: string, parameters: unknown[]): Promise<PlanNode[]> {
    const rows = await audit.dataSource.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      parameters,
    );
    const root = rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (!root) throw new Error('no plan');
    return nodesOf(root);
  }

  it(`should have seeded ${SEEDED_RUNS} runs`, async () => {
    const [row] = await audit.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM audit.runs',
    );
    expect(row?.count).toBe(SEEDED_RUNS);
  });

  it('should aggregate usage with an index range scan of one project, never a table scan', async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const nodes = await plan(USAGE_SQL, [projectId, from, to]);
    expect(nodes.some((node) => node['Node Type'] === 'Seq Scan')).toBe(false);
    const scans = nodes.filter((node) => node['Relation Name'] === 'runs');
    expect(scans).toEqual([
      expect.objectContaining({
        'Node Type': 'Index Only Scan',
        'Index Name': 'runs_project_started',
      }),
    ]);
    // And the real thing answers: roughly 1/20 of the runs of 7 of the 90 days.
    const usage = await audit.bus.request(Subjects.audit.usageGet, {
      projectId,
      from: from.toISOString(),
      to: to.toISOString(),
    });
    expect(usage.totals.runs).toBeGreaterThan(500);
    expect(usage.by_tool.length).toBeGreaterThan(0);
    expect(usage.totals.p95_ms).toBeGreaterThan(usage.totals.p50_ms ?? Infinity);
  });

  it('should page through a whole project newest first from the index, never sorting it', async () => {
    const { sql, parameters } = listQuery(
      { projectId, from: null, to: null },
      { startedAt: new Date().toISOString().replace('Z', '000Z'), runId: 'z' },
      51,
    );
    const nodes = await plan(sql, parameters);
    expect(nodes.map((node) => node['Node Type'])).toEqual(['Limit', 'Index Scan']);
    expect(nodes[1]).toEqual(
      expect.objectContaining({
        'Index Name': 'runs_project_started',
        'Scan Direction': 'Backward',
      }),
    );
  });

  // The member, key and integration of project 0 in the seed (g % 20 = 0).
  const filters: Array<[string, () => Partial<RunFilter>, string]> = [
    ['tool', () => ({ toolName: 'tool_0' }), 'runs_project_tool'],
    ['member', () => ({ memberId: seedIds.member }), 'runs_project_member'],
    ['key', () => ({ apiKeyId: 'key_0' }), 'runs_project_key'],
    ['integration', () => ({ integrationId: seedIds.integration }), 'runs_project_integration'],
  ];

  it.each(filters)(
    'should read a history page filtered by %s through its own index',
    async (_name, filter, index) => {
      const { sql, parameters } = listQuery(
        { projectId, from: null, to: null, ...filter() },
        null,
        51,
      );
      const nodes = await plan(sql, parameters);
      expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
      expect(nodes.map((node) => node['Index Name'])).toContain(index);
      const [row] = await audit.dataSource.query<Array<{ count: number }>>(
        `SELECT count(*)::int AS count FROM (${sql}) page`,
        parameters,
      );
      expect(row?.count).toBeGreaterThan(0);
    },
  );
});
