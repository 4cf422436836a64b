import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

import { APP_LOGGER, SERVICE_INFO, type ServiceInfo } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';
import { RunJournal } from '../runs/run-journal.js';

const BATCH = 100;

/**
 * Housekeeping every replica does on a timer (all of it safe to run concurrently):
 * - ends Runs whose executor died mid-call (lease expired) as `indeterminate`, publishing their
 *   terminal event, so no Run stays "started" forever;
 * - republishes terminal events the run log did not acknowledge (JetStream drops duplicates);
 * - purges ledger rows past their retention.
 */
@Injectable()
export class RunMaintenanceService implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly journal: RunJournal,
    @Inject(EXECUTOR_CONFIG) private readonly config: ExecutorConfig,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'run maintenance failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.config.maintenanceIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One maintenance pass; returns what it did (for tests and logs). */
  async sweep(): Promise<{ interrupted: number; republished: number; purged: number }> {
    let interrupted = 0;
    for (const entry of await this.journal.ledger.expiredLeases(BATCH)) {
      if (await this.journal.interrupt(entry, this.info.instance)) interrupted += 1;
    }
    let republished = 0;
    // Leave the live path time to acknowledge and mark its own events first.
    const settled = Math.max(this.config.runs.ackTimeoutMs * 2, this.config.maintenanceIntervalMs);
    for (const entry of await this.journal.ledger.unpublished(settled, BATCH)) {
      await this.journal.republish(entry);
      republished += 1;
    }
    const purged = await this.journal.ledger.purgeExpired(1_000);
    if (interrupted + republished + purged > 0) {
      this.logger.info({ interrupted, republished, purged }, 'run maintenance');
    }
    return { interrupted, republished, purged };
  }
}
