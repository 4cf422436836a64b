import { z } from 'zod';

import { describeVar, loadEnv } from '@tengine/config';
import {
  EXECUTOR_MAX_ATTEMPTS,
  EXECUTOR_MAX_RETRY_DELAY_MS,
  EXECUTOR_REPLY_BODY_MAX_BYTES,
  RUNS_STREAM_DEFAULT_NAME,
} from '@tengine/contracts';

import { parseEgressAllowlist, type EgressAllowlist } from './egress/egress-policy.js';

function integer(defaultValue: number, min: number, max: number, description: string) {
  return describeVar(z.coerce.number().int().min(min).max(max).default(defaultValue), {
    description,
  });
}

/** The executor's own variables (the common ones are validated by the runtime). */
export const EXECUTOR_ENV = {
  TENGINE_EGRESS_ALLOW: describeVar(
    z
      .string()
      .optional()
      .transform((value, context): EgressAllowlist => {
        try {
          return parseEgressAllowlist(value);
        } catch (error) {
          context.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    {
      description:
        'Destinations tools may reach although private, comma-separated: CIDR ranges or addresses ' +
        '(10.0.0.0/8, 127.0.0.1), host names (api.internal, *.corp.example) and extra public ports ' +
        '(:8443). Empty by default: only public addresses on port 443 over HTTPS.',
    },
  ),
  TENGINE_EXECUTOR_CONNECT_TIMEOUT_MS: integer(
    5_000,
    100,
    60_000,
    'Longest wait for a TCP+TLS connection to an API (each attempt is also bounded by the tool timeout_ms).',
  ),
  TENGINE_EXECUTOR_MAX_RESPONSE_BYTES: integer(
    4 * 1024 * 1024,
    1024,
    64 * 1024 * 1024,
    'Largest response body accepted from an API, on the wire and after decompression (gzip bombs stop here).',
  ),
  TENGINE_EXECUTOR_REPLY_BODY_MAX_BYTES: integer(
    256 * 1024,
    1024,
    EXECUTOR_REPLY_BODY_MAX_BYTES,
    'Largest response body returned to the caller; longer bodies are truncated (truncated: true). Keep it under half of the NATS max_payload.',
  ),
  TENGINE_EXECUTOR_MAX_ATTEMPTS: integer(
    EXECUTOR_MAX_ATTEMPTS,
    1,
    EXECUTOR_MAX_ATTEMPTS,
    'Upstream attempts per call, the first included (1 disables retries).',
  ),
  TENGINE_EXECUTOR_RETRY_BASE_MS: integer(
    100,
    1,
    EXECUTOR_MAX_RETRY_DELAY_MS,
    'Backoff base: the wait before retry n is random in [0, min(max, base·2^(n-1))).',
  ),
  TENGINE_EXECUTOR_RETRY_MAX_DELAY_MS: integer(
    EXECUTOR_MAX_RETRY_DELAY_MS,
    0,
    EXECUTOR_MAX_RETRY_DELAY_MS,
    'Longest wait between attempts; a Retry-After asking for more ends the call instead.',
  ),
  TENGINE_EXECUTOR_RETRY_BUDGET_RATIO: describeVar(z.coerce.number().min(0).max(1).default(0.2), {
    description:
      'Retries earned per call, per API origin (0.2: one retry per five calls once the reserve is spent).',
  }),
  TENGINE_EXECUTOR_RETRY_BUDGET_RESERVE: integer(
    10,
    0,
    1_000,
    'Retries each API origin may spend in a burst before the ratio limits them.',
  ),
  TENGINE_EXECUTOR_LEASE_GRACE_MS: integer(
    30_000,
    100,
    600_000,
    "Margin added to a call's longest possible duration before its idempotency claim counts as abandoned (executor died).",
  ),
  TENGINE_EXECUTOR_MAINTENANCE_INTERVAL_MS: integer(
    5_000,
    50,
    600_000,
    'How often each replica ends abandoned runs, republishes unacknowledged run events and purges expired ledger rows.',
  ),
  TENGINE_IDEMPOTENCY_RETENTION_HOURS: integer(
    24,
    24,
    24 * 90,
    'How long a completed call is kept for replay under its idempotency key (at least 24 h).',
  ),
  TENGINE_TOOL_CACHE_TTL_MS: integer(
    30_000,
    0,
    600_000,
    'How long a resolved tool version (with its secret, in memory only) is reused; change events drop it earlier. 0 disables the cache.',
  ),
  TENGINE_RUNS_STREAM: describeVar(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, "_" or "-"')
      .default(RUNS_STREAM_DEFAULT_NAME),
    {
      description:
        'JetStream stream of Run events (subjects runs.>); with NATS_SUBJECT_PREFIX the prefix is appended (TENGINE_RUNS_<PREFIX>).',
    },
  ),
  TENGINE_RUNS_MAX_AGE_HOURS: integer(
    24 * 7,
    1,
    24 * 365,
    'How long the runs stream keeps events (audit stores them durably in PostgreSQL).',
  ),
  TENGINE_RUNS_DUPLICATE_WINDOW_SECONDS: integer(
    120,
    120,
    24 * 3600,
    'JetStream de-duplication window of Nats-Msg-Id (at least 2 minutes).',
  ),
  TENGINE_RUNS_REPLICAS: integer(1, 1, 5, 'Replicas of the runs stream (3 on a NATS cluster).'),
  TENGINE_RUNS_ACK_TIMEOUT_MS: integer(
    5_000,
    100,
    60_000,
    'Longest wait for JetStream to acknowledge a run event before the call fails with EXECUTOR_RUN_NOT_RECORDED.',
  ),
};

export type ExecutorEnv = ReturnType<typeof loadExecutorEnv>;

export function loadExecutorEnv(environment: Readonly<Record<string, string | undefined>>) {
  return loadEnv(EXECUTOR_ENV, environment);
}
