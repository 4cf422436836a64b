import { waitUntil } from '@tengine/testing';

import { check, knownRunIds, type ClassResult, type ExtraCalls, type RunRow } from './checker.js';
import { Driver, type CallRecord, type CallSpec } from './driver.js';
import type { ChaosPlatform, ProjectFixture } from './platform.js';

/** `TENGINE_PROOF_SIZE=full`: at least 10,000 calls per class. Otherwise a CI-size run. */
export const FULL_SIZE = process.env['TENGINE_PROOF_SIZE'] === 'full';

/** What a scenario gets to work with: its own project, tools and client. */
export interface ClassContext {
  readonly platform: ChaosPlatform;
  readonly slug: string;
  readonly project: ProjectFixture;
  readonly tools: { readonly read: string; readonly write: string };
  readonly driver: Driver;
  readonly notes: string[];
  /** `count` calls alternating read and write; writes carry their op as client key. */
  mixed(count: number, from?: number): CallSpec[];
}

export interface ClassScenario {
  readonly name: string;
  readonly slug: string;
  /** The tools' `timeout_ms`. */
  readonly toolTimeoutMs?: number;
  /** Injects the fault while calls run; returns every call record (and calls made otherwise). */
  readonly run: (context: ClassContext) => Promise<{ records: CallRecord[]; extra?: ExtraCalls }>;
}

/** The gateway's wait for an executor (3 × timeout + 10 s) plus margin: the client's limit. */
function clientTimeoutMs(toolTimeoutMs: number): number {
  return Math.min(toolTimeoutMs * 3 + 10_000, 200_000) + 10_000;
}

async function auditRows(platform: ChaosPlatform, projectId: string): Promise<RunRow[]> {
  return platform.database.query<RunRow>(
    `SELECT run_id, status, replayed, (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms
     FROM audit.runs WHERE project_id = $1`,
    [projectId],
  );
}

/**
 * Waits until the class's Runs have settled: the executors hold no claim and no unpublished outcome
 * for the project, and every Run known to exist has its terminal event at the consumer and a
 * terminal row in audit. Gives up after `timeoutMs` (what is still missing is then reported).
 */
async function quiesce(
  context: ClassContext,
  records: readonly CallRecord[],
  timeoutMs: number,
): Promise<void> {
  const { platform, project } = context;
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1_000, deadline - Date.now());
  await waitUntil(
    async () => {
      const [row] = await platform.database.query<{ open: number }>(
        `SELECT count(*)::int AS open FROM executor.idempotency_keys
         WHERE project_id = $1 AND (state = 'in_flight' OR NOT terminal_published)`,
        [project.projectId],
      );
      return row?.open === 0;
    },
    left(),
    250,
  ).catch(() => context.notes.push('executor claims still open at the deadline'));
  await waitUntil(
    async () => {
      const runs = await auditRows(platform, project.projectId);
      const rows = new Map(runs.map((run) => [run.run_id, run]));
      const observed = platform.observer.ofProject(project.projectId);
      const seen = new Map(observed.map((run) => [run.runId, run]));
      const known = knownRunIds({
        records,
        ledger: platform.ledger,
        runs,
        observed,
        opPrefix: `${context.slug}:`,
      });
      for (const runId of known) {
        const row = rows.get(runId);
        if (!seen.get(runId)?.terminal || !row || row.status === 'running') return false;
      }
      return true;
    },
    left(),
    250,
  ).catch(() => context.notes.push('some Runs were still unsettled at the deadline'));
}

/**
 * Runs one fault class on a healed platform: a fresh project and tools, the scenario, healing,
 * quiescence, one retry (same key) of every write whose outcome the client could not know, and
 * the accounting.
 */
export async function runClass(
  platform: ChaosPlatform,
  scenario: ClassScenario,
): Promise<ClassResult> {
  await platform.heal();
  const crashesBefore = platform.crashes().length;
  const toolTimeoutMs = scenario.toolTimeoutMs ?? 1_000;
  const project = await platform.createProject(scenario.name);
  const tools = await platform.createTools(project, toolTimeoutMs);
  const driver = new Driver({
    gateways: () => platform.gatewayUrls,
    token: project.apiKey,
    tools,
    timeoutMs: clientTimeoutMs(toolTimeoutMs),
  });
  const slug = scenario.slug;
  const context: ClassContext = {
    platform,
    slug,
    project,
    tools,
    driver,
    notes: [],
    mixed: (count, from = 0) =>
      Array.from({ length: count }, (_, offset) => {
        const index = from + offset;
        const write = index % 2 === 1;
        const op = `${slug}:${write ? 'w' : 'r'}:${index}`;
        return write ? { op, kind: 'write', key: op } : { op, kind: 'read' };
      }),
  };
  const started = Date.now();
  const { records, extra } = await scenario.run(context);
  await platform.heal();
  await platform.waitReady();
  const settleMs = FULL_SIZE ? 300_000 : 90_000;
  await quiesce(context, records, settleMs);
  const retried = await driver.resolve(records, 16);
  if (retried > 0) {
    context.notes.push(`${retried} write(s) with an unknown outcome asked again with the same key`);
    await quiesce(context, records, settleMs);
  }
  const runs = await auditRows(platform, project.projectId);
  return check({
    name: scenario.name,
    opPrefix: `${slug}:`,
    records,
    ...(extra ? { extra } : {}),
    ledger: platform.ledger,
    runs,
    observed: platform.observer.ofProject(project.projectId),
    durationMs: Date.now() - started,
    crashes: platform.crashes().slice(crashesBefore),
    notes: [...context.notes, summariseCodes(records)],
  });
}

/** The answers' codes with their counts, e.g. `ok 180, EXECUTOR_TIMEOUT 12`. */
function summariseCodes(records: readonly CallRecord[]): string {
  const counts = new Map<string, number>();
  for (const record of records) {
    const code = record.attempts[0]?.code ?? 'none';
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return `first answers: ${[...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${count}`)
    .join(', ')}`;
}

/** An open MCP GET (SSE) stream. */
export interface OpenStream {
  isOpen(): boolean;
  readonly ended: Promise<void>;
  close(): void;
}

export async function openStream(base: string, token: string): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/mcp`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`GET /mcp answered ${response.status}`);
  }
  const reader = response.body.getReader();
  let open = true;
  const ended = (async () => {
    try {
      while (!(await reader.read()).done) {
        // Keep reading: notifications and keep-alives.
      }
    } catch {
      // The connection broke: the stream is over.
    }
    open = false;
  })();
  return { isOpen: () => open, ended, close: () => controller.abort() };
}
