import { Counter, register } from 'prom-client';

/** What became of a Run event. */
export type IngestOutcome = 'applied' | 'ignored' | 'parked' | 'retried' | 'dropped';

function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  // Several audit replicas may share one process (tests, embedded mode): one registration only.
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames });
}

/**
 * Run events handled by audit, by outcome: `applied` changed a Run, `ignored` was a duplicate or a
 * stale event, `parked` could not be stored (see audit.parked_events), `retried` is waiting for
 * redelivery after a database failure, `dropped` was lost (embedded mode only, after retries).
 */
export const runEventsTotal = counter(
  'tengine_audit_run_events_total',
  'Run events handled by audit, by outcome',
  ['outcome'],
);

/** Counts of one ingestor, for tests and the status log. */
export interface IngestStats {
  applied: number;
  ignored: number;
  parked: number;
  retried: number;
  dropped: number;
}

export function emptyStats(): IngestStats {
  return { applied: 0, ignored: 0, parked: 0, retried: 0, dropped: 0 };
}
