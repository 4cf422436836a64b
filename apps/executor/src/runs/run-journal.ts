import { Inject, Injectable } from '@nestjs/common';

import { DomainError, type ExecuteRunReply, type RunEvent } from '@tengine/contracts';
import { APP_LOGGER } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';
import {
  IdempotencyLedgerRepository,
  type LedgerEntry,
  type LedgerKey,
  type LedgerState,
} from '../ledger/idempotency-ledger.repository.js';
import { runError } from './run-errors.js';
import { terminalEvent } from './run-events.js';
import { RUN_EVENT_SINK, type RunEventSink } from './run-event-sink.js';

/**
 * Where a Run's outcome is written down: the idempotency ledger (PostgreSQL, the replay record)
 * and the run log (JetStream, the audit feed). The ledger is written first, so an outcome is
 * never lost even when the run log is down: a terminal event left unacknowledged is republished
 * later by any replica (see `RunMaintenanceService`).
 */
@Injectable()
export class RunJournal {
  constructor(
    readonly ledger: IdempotencyLedgerRepository,
    @Inject(RUN_EVENT_SINK) private readonly sink: RunEventSink,
    @Inject(EXECUTOR_CONFIG) private readonly config: ExecutorConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  /** Publishes an event and waits for the run log's acknowledgement. */
  async publish(event: RunEvent): Promise<void> {
    try {
      await this.sink.publish(event);
    } catch (error) {
      this.logger.error(
        { err: error, runId: event.runId, event: event.event },
        'run event not acknowledged',
      );
      throw new DomainError(
        'EXECUTOR_RUN_NOT_RECORDED',
        `Run ${event.runId} could not be recorded (${event.event} event not acknowledged).`,
        { cause: error, details: { runId: event.runId } },
      );
    }
  }

  /**
   * Stores a finished call under its key, then publishes its terminal event. Throws
   * `EXECUTOR_RUN_NOT_RECORDED` when the ledger cannot store the outcome, or when the run log does
   * not acknowledge (the outcome stays in the ledger and is republished later). Answers how long
   * the ledger and the run log took.
   */
  async complete(
    key: LedgerKey,
    state: Exclude<LedgerState, 'in_flight'>,
    reply: ExecuteRunReply,
    event: RunEvent,
  ): Promise<{ ledgerMs: number; publishMs: number }> {
    const storing = performance.now();
    let stored: boolean;
    try {
      stored = await this.ledger.complete(key, reply.runId, {
        state,
        result: reply,
        terminalEvent: event,
        retentionHours: this.config.retentionHours,
      });
    } catch (error) {
      // The call was made but its outcome is not stored (PostgreSQL unavailable): the caller must
      // learn that the outcome is unknown, not that the call failed. The claim ends as interrupted
      // once its lease expires, or the stored outcome is republished if the write did land.
      this.logger.error({ err: error, runId: reply.runId }, 'run outcome not stored in the ledger');
      throw new DomainError(
        'EXECUTOR_RUN_NOT_RECORDED',
        `Run ${reply.runId} could not be recorded (its outcome was not stored).`,
        { cause: error, details: { runId: reply.runId } },
      );
    }
    if (!stored) {
      // Our lease ran out and another replica already ended this Run as interrupted. The event
      // below still tells the run log what really happened.
      this.logger.warn(
        { runId: reply.runId },
        'run finished after its idempotency lease expired; raise TENGINE_EXECUTOR_LEASE_GRACE_MS',
      );
    }
    const publishing = performance.now();
    await this.publish(event);
    const published = performance.now();
    // Not awaited: the caller need not wait for the bookkeeping. Until it lands (batched with other
    // calls'), the event merely counts as unpublished, and republishing it is harmless.
    void this.ledger.markPublished(key, reply.runId).catch((error: unknown) => {
      this.logger.warn({ err: error, runId: reply.runId }, 'could not mark run event published');
    });
    return { ledgerMs: publishing - storing, publishMs: published - publishing };
  }

  /**
   * Ends a Run whose executor died mid-call (its lease expired): the Run becomes `indeterminate`
   * (`EXECUTOR_RUN_INTERRUPTED`) and the key is released when repeating the call is harmless, or
   * keeps the interrupted result otherwise, so no effect is ever duplicated. Returns false when
   * another replica got there first.
   */
  async interrupt(entry: LedgerEntry, executor: string): Promise<boolean> {
    const finishedAt = new Date();
    const startedAt = Date.parse(entry.runContext.timings.startedAt);
    const reply: ExecuteRunReply = {
      runId: entry.runId,
      status: 'indeterminate',
      attempts: 0,
      replayed: false,
      durationMs: Math.max(0, finishedAt.getTime() - startedAt),
      error: runError('EXECUTOR_RUN_INTERRUPTED', {
        excerpt: 'the executor handling this call stopped before recording its outcome',
      }),
    };
    const event = terminalEvent(
      entry.runContext,
      reply,
      { finishedAt, upstreamMs: null, requestBytes: null, responseBytes: null },
      executor,
    );
    const ended = await this.ledger.interrupt(
      entry,
      entry.runId,
      reply,
      event,
      this.config.retentionHours,
    );
    if (!ended) return false;
    this.logger.warn({ runId: entry.runId }, 'run interrupted: its executor stopped mid-call');
    await this.republish({ ...entry, terminalEvent: event });
    return true;
  }

  /** Publishes a stored terminal event again (de-duplicated by its message id) and marks it. */
  async republish(entry: LedgerEntry): Promise<void> {
    if (entry.terminalEvent === null) return;
    await this.publish(entry.terminalEvent);
    await this.ledger.markPublished(entry, entry.runId);
  }
}
