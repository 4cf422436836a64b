import { z } from 'zod';

import { describeVar, loadEnv } from '@tengine/config';
import { RUNS_STREAM_DEFAULT_NAME } from '@tengine/contracts';

/** JetStream names may not contain whitespace, `.`, `*`, `>`, path separators or be empty. */
const JETSTREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function integerVar(defaultValue: number, min: number, max: number, description: string) {
  return describeVar(z.coerce.number().int().min(min).max(max).default(defaultValue), {
    description,
  });
}

/** Audit's own variables (the common ones are validated by the runtime). */
export const AUDIT_ENV = {
  AUDIT_RETENTION_DAYS: integerVar(
    90,
    0,
    36_500,
    'Runs (and parked events) older than this many days are deleted, in batches. 0 keeps them forever.',
  ),
  AUDIT_RETENTION_INTERVAL_MS: integerVar(
    3_600_000,
    1_000,
    86_400_000,
    'How often a replica looks for Runs past retention (replicas take turns under an advisory lock).',
  ),
  AUDIT_RETENTION_BATCH_SIZE: integerVar(
    5_000,
    1,
    100_000,
    'Runs deleted per retention statement; small batches keep locks short so writers never wait.',
  ),
  AUDIT_CONSUMER_NAME: describeVar(
    z.string().regex(JETSTREAM_NAME, 'must be 1-64 letters, digits, "-" or "_"').default('audit'),
    {
      description:
        'Durable JetStream consumer the audit replicas share on the runs stream. WARNING: renaming it starts a new consumer that replays the whole stream (harmless, but slow).',
    },
  ),
  // Shared with the executor, which creates the stream: both derive the name the same way.
  TENGINE_RUNS_STREAM: describeVar(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, "_" or "-"')
      .default(RUNS_STREAM_DEFAULT_NAME),
    {
      description:
        "The executor's runs stream (set it to the executor's value); with NATS_SUBJECT_PREFIX the prefix is appended (TENGINE_RUNS_<PREFIX>).",
    },
  ),
  AUDIT_MAX_ACK_PENDING: integerVar(
    1_000,
    1,
    100_000,
    'Run events handed to audit replicas and not yet acknowledged, at most (over all replicas).',
  ),
  AUDIT_ACK_WAIT_MS: integerVar(
    30_000,
    1_000,
    600_000,
    'An event not acknowledged within this time (its replica died mid-batch) is redelivered.',
  ),
  AUDIT_BATCH_SIZE: integerVar(
    100,
    1,
    1_000,
    'Run events written to PostgreSQL in one statement, at most.',
  ),
  AUDIT_BATCH_LINGER_MS: integerVar(
    20,
    0,
    5_000,
    'How long a partial batch waits for more events before it is written.',
  ),
};

export type AuditEnv = ReturnType<typeof loadAuditEnv>;

export function loadAuditEnv(environment: Readonly<Record<string, string | undefined>>) {
  return loadEnv(AUDIT_ENV, environment);
}
