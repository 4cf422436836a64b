import { Histogram, register } from 'prom-client';

function histogram(name: string, help: string, labelNames: string[]): Histogram<string> {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Histogram<string>;
  return new Histogram({
    name,
    help,
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
}

/** Duration of RPCs as seen by the caller, per subject and outcome (`ok` or an error code). */
export const rpcClientDuration = histogram(
  'tengine_rpc_client_duration_seconds',
  'Duration of NATS requests sent, by subject and outcome',
  ['subject', 'outcome'],
);

/** Duration of RPC handling, per service, subject and outcome. */
export const rpcServerDuration = histogram(
  'tengine_rpc_server_duration_seconds',
  'Duration of NATS requests handled, by service, subject and outcome',
  ['service', 'subject', 'outcome'],
);
