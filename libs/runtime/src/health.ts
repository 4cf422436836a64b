import type { DataSource } from 'typeorm';

import type { MessageBus } from '@tengine/messaging';
import { pingDatabase, schemaState } from '@tengine/persistence';

/** The result of one readiness check. */
export interface CheckResult {
  /** `degraded` is reported but does not make the process unready. */
  readonly status: 'up' | 'down' | 'degraded';
  readonly detail?: string;
  readonly [key: string]: unknown;
}

/** A named readiness check. Implementations must answer within about a second. */
export type HealthCheck = () => Promise<CheckResult>;

/** The body of `/health` and `/health/ready`. */
export interface HealthReport {
  readonly status: 'ok' | 'error';
  readonly service: string;
  readonly checks: Record<string, CheckResult>;
}

/** NATS (or in-process) connectivity. */
export function transportCheck(bus: MessageBus): HealthCheck {
  return async () => {
    const health = await bus.health();
    return health.connected
      ? { status: 'up', transport: health.kind }
      : { status: 'down', transport: health.kind, detail: health.reason ?? 'not connected' };
  };
}

/** PostgreSQL reachability. */
export function databaseCheck(dataSource: DataSource): HealthCheck {
  return async () => {
    try {
      await pingDatabase(dataSource);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', detail: (error as Error).message };
    }
  };
}

/** All migrations this build knows are applied. Once true it stays true for the process. */
export function migrationsCheck(dataSource: DataSource, schema: string): HealthCheck {
  let confirmed = false;
  return async () => {
    if (confirmed) return { status: 'up' };
    try {
      const state = await schemaState(dataSource, schema);
      confirmed = state.pending.length === 0;
      return confirmed
        ? { status: 'up' }
        : {
            status: 'down',
            detail: `pending migrations: ${state.pending.join(', ')}; run npm run migrate`,
          };
    } catch (error) {
      return { status: 'down', detail: (error as Error).message };
    }
  };
}

/** Runs every check concurrently and folds them into one report. */
export async function runChecks(
  service: string,
  checks: Record<string, HealthCheck>,
): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      try {
        return [name, await check()];
      } catch (error) {
        return [name, { status: 'down', detail: (error as Error).message }];
      }
    }),
  );
  const results = Object.fromEntries(entries);
  const ok = entries.every(([, result]) => result.status !== 'down');
  return { status: ok ? 'ok' : 'error', service, checks: results };
}
