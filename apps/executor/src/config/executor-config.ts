import { Module } from '@nestjs/common';

import { APP_LOGGER, RAW_ENVIRONMENT } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import type { EgressAllowlist } from '../egress/egress-policy.js';
import type { BackoffOptions, RetryBudgetOptions } from '../upstream/retry-policy.js';
import { loadExecutorEnv } from '../env.schema.js';

/** The executor's settings, validated once at boot. */
export interface ExecutorConfig {
  readonly egress: EgressAllowlist;
  readonly connectTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly replyBodyMaxBytes: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
  readonly retryBudget: RetryBudgetOptions;
  readonly leaseGraceMs: number;
  readonly maintenanceIntervalMs: number;
  readonly retentionHours: number;
  readonly toolCacheTtlMs: number;
  readonly runs: {
    readonly streamBase: string;
    readonly maxAgeHours: number;
    readonly duplicateWindowSeconds: number;
    readonly replicas: number;
    readonly ackTimeoutMs: number;
  };
}

export const EXECUTOR_CONFIG = Symbol('executor.config');

/** Loads the executor's settings, failing fast on bad values and saying what the allowlist opens. */
export function executorConfigFrom(
  environment: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): ExecutorConfig {
  const env = loadExecutorEnv(environment);
  const egress = env.TENGINE_EGRESS_ALLOW;
  if (egress.ranges.length > 0 || egress.hosts.length > 0 || egress.ports.size > 0) {
    // Loud on purpose: every entry lets tools reach something the SSRF policy would otherwise block.
    logger.warn(
      {
        ranges: egress.ranges.map(([address, bits]) => `${address.toString()}/${bits}`),
        hosts: egress.hosts,
        ports: [...egress.ports],
      },
      'TENGINE_EGRESS_ALLOW opens private destinations or extra ports to tools',
    );
  }
  return {
    egress,
    connectTimeoutMs: env.TENGINE_EXECUTOR_CONNECT_TIMEOUT_MS,
    maxResponseBytes: env.TENGINE_EXECUTOR_MAX_RESPONSE_BYTES,
    replyBodyMaxBytes: env.TENGINE_EXECUTOR_REPLY_BODY_MAX_BYTES,
    maxAttempts: env.TENGINE_EXECUTOR_MAX_ATTEMPTS,
    backoff: {
      baseMs: env.TENGINE_EXECUTOR_RETRY_BASE_MS,
      maxMs: env.TENGINE_EXECUTOR_RETRY_MAX_DELAY_MS,
    },
    retryBudget: {
      ratio: env.TENGINE_EXECUTOR_RETRY_BUDGET_RATIO,
      maxTokens: env.TENGINE_EXECUTOR_RETRY_BUDGET_RESERVE,
    },
    leaseGraceMs: env.TENGINE_EXECUTOR_LEASE_GRACE_MS,
    maintenanceIntervalMs: env.TENGINE_EXECUTOR_MAINTENANCE_INTERVAL_MS,
    retentionHours: env.TENGINE_IDEMPOTENCY_RETENTION_HOURS,
    toolCacheTtlMs: env.TENGINE_TOOL_CACHE_TTL_MS,
    runs: {
      streamBase: env.TENGINE_RUNS_STREAM,
      maxAgeHours: env.TENGINE_RUNS_MAX_AGE_HOURS,
      duplicateWindowSeconds: env.TENGINE_RUNS_DUPLICATE_WINDOW_SECONDS,
      replicas: env.TENGINE_RUNS_REPLICAS,
      ackTimeoutMs: env.TENGINE_RUNS_ACK_TIMEOUT_MS,
    },
  };
}

@Module({
  providers: [
    {
      provide: EXECUTOR_CONFIG,
      inject: [RAW_ENVIRONMENT, APP_LOGGER],
      useFactory: executorConfigFrom,
    },
  ],
  exports: [EXECUTOR_CONFIG],
})
export class ExecutorConfigModule {}
