import { Counter, Histogram, register } from 'prom-client';

function existing<T>(name: string): T | undefined {
  return register.getSingleMetric(name) as T | undefined;
}

/** Runs by outcome and error code (`none` on success), as replied. */
export const runsTotal =
  existing<Counter<string>>('tengine_executor_runs_total') ??
  new Counter({
    name: 'tengine_executor_runs_total',
    help: 'Tool calls answered by the executor, by outcome and error code',
    labelNames: ['status', 'code', 'replayed'],
  });

/** How long runs took end to end (ledger, upstream attempts, run log). */
export const runDuration =
  existing<Histogram<string>>('tengine_executor_run_duration_seconds') ??
  new Histogram({
    name: 'tengine_executor_run_duration_seconds',
    help: 'Duration of tool calls in the executor, by outcome',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
