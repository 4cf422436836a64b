import type { CallRecord } from './driver.js';
import type { Ledger } from './ledger.js';
import type { ObservedRun } from './observer.js';

/** A Run row of audit (the record customers query). */
export interface RunRow {
  readonly run_id: string;
  readonly status: string;
  readonly replayed: boolean;
  /** updated_at in epoch milliseconds (same machine clock as the suite). */
  readonly updated_ms: number;
}

/** Calls made outside the driver (session-token mints), accounted as calls of the class. */
export interface ExtraCalls {
  readonly ok: number;
  readonly failed: number;
  /** Answers contrary to the specified behaviour. */
  readonly misreported: number;
}

export interface ClassInput {
  readonly name: string;
  /** Ops of this class start with this prefix (the ledger is shared by the suite). */
  readonly opPrefix: string;
  readonly records: readonly CallRecord[];
  readonly extra?: ExtraCalls;
  readonly ledger: Ledger;
  readonly runs: readonly RunRow[];
  readonly observed: readonly ObservedRun[];
  readonly durationMs: number;
  readonly crashes: readonly string[];
  readonly notes: readonly string[];
}

export interface ClassResult {
  readonly name: string;
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  readonly indeterminate: number;
  readonly lost: number;
  readonly dupEffects: number;
  readonly dupDeliveries: number;
  readonly eventsMissing: number;
  /** Definite answers the ledger or the Run record contradicts (see RESULTS.md). */
  readonly misreported: number;
  readonly recoveryP99Ms: number;
  readonly durationMs: number;
  readonly crashes: number;
  readonly notes: readonly string[];
  /** Examples of every violation, for the failure message. */
  readonly violations: readonly string[];
}

export function passed(result: ClassResult): boolean {
  return (
    result.lost === 0 &&
    result.dupEffects === 0 &&
    result.eventsMissing === 0 &&
    result.misreported === 0 &&
    result.crashes === 0
  );
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Every Run id that is known to exist: the client, the API, audit or the consumer saw it. */
export function knownRunIds(
  input: Pick<ClassInput, 'records' | 'ledger' | 'runs' | 'observed' | 'opPrefix'>,
): Set<string> {
  const ids = new Set<string>();
  for (const record of input.records) {
    for (const attempt of record.attempts) {
      // An executor answer (ok or with a Run status) proves the Run exists; a gateway-side error
      // (no executor, timeout) does not.
      if (attempt.runId && (attempt.outcome === 'ok' || attempt.runStatus !== undefined)) {
        ids.add(attempt.runId);
      }
    }
  }
  for (const [op, record] of input.ledger.ops) {
    if (op.startsWith(input.opPrefix)) for (const runId of record.runIds) ids.add(runId);
  }
  for (const row of input.runs) ids.add(row.run_id);
  for (const run of input.observed) ids.add(run.runId);
  return ids;
}

/**
 * Joins client answers × ledger × audit Runs × the external consumer's events for one class.
 *
 * - lost: the client saw success, but the Run is not `succeeded` in audit or its terminal event
 *   never reached the consumer;
 * - dup_effects: operations the ledger applied more than once (under different upstream keys);
 * - dup_deliveries: requests the ledger received again under a key it had seen (deduplicated);
 * - events_missing: Runs known to exist without a terminal event at the consumer or without a
 *   terminal row in audit;
 * - misreported: a definite answer the facts contradict: a write told "failed" (every call of its
 *   operation) whose effect was applied, an "ok" without effect or delivery, or a Run status the
 *   executor reported that differs from the one recorded.
 */
export function check(input: ClassInput): ClassResult {
  const violations: string[] = [];
  const note = (text: string): void => {
    if (violations.length < 20) violations.push(text);
  };
  const rows = new Map(input.runs.map((row) => [row.run_id, row]));
  const observed = new Map(input.observed.map((run) => [run.runId, run]));
  let ok = input.extra?.ok ?? 0;
  let failed = input.extra?.failed ?? 0;
  let indeterminate = 0;
  let lost = 0;
  let misreported = input.extra?.misreported ?? 0;
  const recovery: number[] = [];
  const opsOutcomes = new Map<string, Set<string>>();

  for (const record of input.records) {
    const final = record.attempts.at(-1);
    if (!final) continue;
    if (final.outcome === 'ok') ok += 1;
    else if (final.outcome === 'failed') failed += 1;
    else indeterminate += 1;
    let outcomes = opsOutcomes.get(record.spec.op);
    if (!outcomes) opsOutcomes.set(record.spec.op, (outcomes = new Set()));
    for (const attempt of record.attempts) outcomes.add(attempt.outcome);

    for (const attempt of record.attempts) {
      if (!attempt.runId || attempt.runStatus === undefined) continue;
      const row = rows.get(attempt.runId);
      const event = observed.get(attempt.runId)?.terminal;
      if (attempt.outcome === 'ok') {
        if (row?.status !== 'succeeded' || event?.event !== 'succeeded') {
          lost += 1;
          note(
            `lost: ${record.spec.op} run ${attempt.runId} ok at the client; audit ${row?.status ?? 'none'}, consumer ${event?.event ?? 'none'}`,
          );
        }
      } else if (row && row.status !== 'running' && row.status !== attempt.runStatus) {
        misreported += 1;
        note(
          `misreported: run ${attempt.runId} answered ${attempt.runStatus}, recorded ${row.status}`,
        );
      }
    }

    // How long the first attempt took to be settled everywhere: answered, its Run terminal at the
    // consumer and in audit (an interrupted Run once its lease expired, a republished event once
    // the run log was back, a row once audit caught up). Later asks of the client do not count.
    const first = record.attempts[0]!;
    const runId = first.runId;
    const settled = Math.max(
      first.endedAt,
      runId ? (observed.get(runId)?.terminal?.at ?? 0) : 0,
      runId ? (rows.get(runId)?.updated_ms ?? 0) : 0,
    );
    recovery.push(settled - first.startedAt);
  }

  let dupEffects = 0;
  let dupDeliveries = 0;
  for (const [op, record] of input.ledger.ops) {
    if (!op.startsWith(input.opPrefix)) continue;
    if (record.effects > 1) {
      dupEffects += 1;
      note(
        `dup effect: ${op} applied ${record.effects}× under keys ${[...record.keys].join(', ')}`,
      );
    }
  }
  for (const record of input.ledger.keys.values()) {
    if (record.op.startsWith(input.opPrefix)) dupDeliveries += record.deliveries - 1;
  }
  for (const [op, outcomes] of opsOutcomes) {
    const ledger = input.ledger.op(op);
    const spec = input.records.find((record) => record.spec.op === op)?.spec;
    if (spec?.kind === 'write') {
      if ((ledger?.effects ?? 0) > 0 && !outcomes.has('ok') && !outcomes.has('indeterminate')) {
        misreported += 1;
        note(`misreported: ${op} applied, but every answer said failed`);
      }
      if ((ledger?.effects ?? 0) === 0 && outcomes.has('ok')) {
        misreported += 1;
        note(`misreported: ${op} ok at the client, never applied`);
      }
    } else if (outcomes.has('ok') && (ledger?.deliveries ?? 0) === 0) {
      misreported += 1;
      note(`misreported: read ${op} ok at the client, never delivered`);
    }
  }

  let eventsMissing = 0;
  for (const runId of knownRunIds(input)) {
    const row = rows.get(runId);
    const terminal = observed.get(runId)?.terminal;
    if (!terminal || !row || row.status === 'running') {
      eventsMissing += 1;
      note(
        `events missing: run ${runId}: consumer ${terminal?.event ?? 'no terminal event'}, audit ${row?.status ?? 'no row'}`,
      );
    }
  }
  for (const crash of input.crashes) note(`crash: ${crash}`);

  return {
    name: input.name,
    calls: input.records.length + (input.extra ? input.extra.ok + input.extra.failed : 0),
    ok,
    failed,
    indeterminate,
    lost,
    dupEffects,
    dupDeliveries,
    eventsMissing,
    misreported,
    recoveryP99Ms: percentile(recovery, 99),
    durationMs: input.durationMs,
    crashes: input.crashes.length,
    notes: input.notes,
    violations,
  };
}

/** The table printed and written to RESULTS.md. */
export function formatTable(results: readonly ClassResult[]): string {
  const header = [
    'class',
    'calls',
    'ok',
    'failed',
    'indeterminate',
    'lost',
    'dup_effects',
    'dup_deliveries',
    'events_missing',
    'misreported',
    'recovery_p99',
    'duration',
    'pass',
  ];
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const row = (result: ClassResult): string[] => [
    result.name,
    String(result.calls),
    String(result.ok),
    String(result.failed),
    String(result.indeterminate),
    String(result.lost),
    String(result.dupEffects),
    String(result.dupDeliveries),
    String(result.eventsMissing),
    String(result.misreported),
    seconds(result.recoveryP99Ms),
    seconds(result.durationMs),
    passed(result) ? 'yes' : result.crashes > 0 ? `NO (${result.crashes} crash)` : 'NO',
  ];
  const sum = (pick: (result: ClassResult) => number): number =>
    results.reduce((total, result) => total + pick(result), 0);
  const total: string[] = [
    '**total**',
    String(sum((r) => r.calls)),
    String(sum((r) => r.ok)),
    String(sum((r) => r.failed)),
    String(sum((r) => r.indeterminate)),
    String(sum((r) => r.lost)),
    String(sum((r) => r.dupEffects)),
    String(sum((r) => r.dupDeliveries)),
    String(sum((r) => r.eventsMissing)),
    String(sum((r) => r.misreported)),
    seconds(Math.max(0, ...results.map((r) => r.recoveryP99Ms))),
    seconds(sum((r) => r.durationMs)),
    results.every(passed) ? 'yes' : 'NO',
  ];
  const lines = [header, header.map(() => '---'), ...results.map(row), total];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
