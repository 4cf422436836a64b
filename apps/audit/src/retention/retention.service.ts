import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { APP_LOGGER, DATA_SOURCE, RAW_ENVIRONMENT } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { loadAuditEnv, type AuditEnv } from '../env.schema.js';
import { ParkedEventsRepository } from '../ingest/parked-events.repository.js';
import { RunsRepository } from '../runs/runs.repository.js';

const DAY_MS = 86_400_000;
/** Advisory lock key of the retention sweep: one replica sweeps at a time. */
const RETENTION_LOCK_KEY = '7311402651340719131';
/** Pause between two delete batches, so the sweep never hogs the database. */
const BATCH_PAUSE_MS = 50;

/** What one sweep deleted; `skipped` when another replica was sweeping. */
export interface SweepResult {
  readonly runs: number;
  readonly parkedEvents: number;
  readonly skipped: boolean;
}

/**
 * Deletes Runs (and parked events) past `AUDIT_RETENTION_DAYS`, in small batches that skip rows a
 * writer holds, so the consumer is never blocked; replicas take turns under an advisory lock.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly env: AuditEnv;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<SweepResult> | undefined;
  private stopped = false;

  constructor(
    private readonly runs: RunsRepository,
    private readonly parked: ParkedEventsRepository,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(RAW_ENVIRONMENT) environment: Readonly<Record<string, string | undefined>>,
  ) {
    this.env = loadAuditEnv(environment);
  }

  onApplicationBootstrap(): void {
    if (this.env.AUDIT_RETENTION_DAYS === 0) return;
    const schedule = (): void => {
      // Jitter spreads replicas started together over the interval.
      const delay = this.env.AUDIT_RETENTION_INTERVAL_MS * (0.75 + Math.random() * 0.5);
      this.timer = setTimeout(() => {
        void this.sweep()
          .catch((error: unknown) => this.logger.error({ err: error }, 'retention sweep failed'))
          .finally(() => {
            if (!this.stopped) schedule();
          });
      }, delay);
      this.timer.unref();
    };
    schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  /** Deletes everything past retention as of `now`; returns the counts. */
  sweep(now = new Date()): Promise<SweepResult> {
    this.sweeping ??= this.sweepExclusively(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepExclusively(now: Date): Promise<SweepResult> {
    if (this.env.AUDIT_RETENTION_DAYS === 0) return { runs: 0, parkedEvents: 0, skipped: false };
    const cutoff = new Date(now.getTime() - this.env.AUDIT_RETENTION_DAYS * DAY_MS);
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      const [row] = (await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [
        RETENTION_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!row?.locked) return { runs: 0, parkedEvents: 0, skipped: true };
      try {
        const runs = await this.inBatches((limit) => this.runs.deleteStartedBefore(cutoff, limit));
        const parkedEvents = await this.inBatches((limit) =>
          this.parked.deleteParkedBefore(cutoff, limit),
        );
        if (runs > 0 || parkedEvents > 0) {
          this.logger.info(
            { runs, parkedEvents, cutoff: cutoff.toISOString() },
            'deleted runs past retention',
          );
        }
        return { runs, parkedEvents, skipped: false };
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
      }
    } finally {
      await lock.release();
    }
  }

  private async inBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
    const limit = this.env.AUDIT_RETENTION_BATCH_SIZE;
    let total = 0;
    for (;;) {
      const deleted = await deleteBatch(limit);
      total += deleted;
      if (deleted < limit || this.stopped) return total;
      await new Promise((resolve) => setTimeout(resolve, BATCH_PAUSE_MS));
    }
  }
}
