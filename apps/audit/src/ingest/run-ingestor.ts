import { Inject, Injectable } from '@nestjs/common';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';

import type { MessageHeaders } from '@tengine/messaging';
import { APP_LOGGER, RAW_ENVIRONMENT } from '@tengine/runtime';
import {
  Attributes,
  extractTraceContext,
  tracer,
  withRunId,
  type Logger,
} from '@tengine/telemetry';

import { loadAuditEnv } from '../env.schema.js';
import { latestPerRun, toRunRecord, type RunRecord } from '../runs/run-record.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { emptyStats, runEventsTotal, type IngestOutcome, type IngestStats } from './metrics.js';
import { ParkedEventsRepository } from './parked-events.repository.js';
import type { DecodedRunEvent } from './run-event-decoder.js';
import { isDataError, retryDelayMs, sqlState } from './store-errors.js';

/** One Run event as received from JetStream or the in-process bus, with how to settle it. */
export interface RunDelivery {
  readonly source: 'jetstream' | 'bus';
  readonly subject: string;
  readonly stream: string | null;
  readonly streamSequence: number | null;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly headers: MessageHeaders;
  readonly decoded: DecodedRunEvent;
  /** The payload as text, for parking. */
  payloadText(): string | null;
  /** Done with it: stored, ignored as stale, or parked. */
  ack(): void;
  /** Not stored because of a transient failure: deliver it again after `delayMs`. */
  retry(delayMs: number): void;
}

interface Storable {
  readonly delivery: RunDelivery;
  readonly record: RunRecord;
  readonly span: Span;
}

const DAY_MS = 86_400_000;

/**
 * Turns Run events into Run rows. Poison events are parked and acknowledged at once; valid ones are
 * written in one idempotent statement per batch and acknowledged only after it committed, so a
 * crash before the commit means redelivery, never loss, and a crash after it means a harmless
 * duplicate. When the database refuses a batch because of one bad event, the batch is retried
 * event by event so only that one is parked.
 */
@Injectable()
export class RunIngestor {
  private readonly retentionDays: number;
  private readonly counts: IngestStats = emptyStats();

  constructor(
    private readonly runs: RunsRepository,
    private readonly parked: ParkedEventsRepository,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(RAW_ENVIRONMENT) environment: Readonly<Record<string, string | undefined>>,
  ) {
    this.retentionDays = loadAuditEnv(environment).AUDIT_RETENTION_DAYS;
  }

  /** Counts since this replica started. */
  stats(): IngestStats {
    return { ...this.counts };
  }

  /** Records an outcome that happened outside {@link ingest} (a bus event lost after retries). */
  count(outcome: IngestOutcome, amount = 1): void {
    this.counts[outcome] += amount;
    runEventsTotal.inc({ outcome }, amount);
  }

  /** Stores, parks or schedules for redelivery every delivery of a batch; never throws. */
  async ingest(deliveries: readonly RunDelivery[]): Promise<void> {
    const storable: Storable[] = [];
    const poison: Array<{ delivery: RunDelivery; reason: string }> = [];
    for (const delivery of deliveries) {
      if (delivery.decoded.ok) {
        const { event, extras } = delivery.decoded;
        storable.push({
          delivery,
          record: toRunRecord(event, extras, delivery.streamSequence),
          span: this.startSpan(delivery, event.runId, event.projectId, event.tool.name),
        });
      } else {
        poison.push({ delivery, reason: delivery.decoded.reason });
      }
    }
    await this.park(poison);
    await this.store(storable);
  }

  private startSpan(delivery: RunDelivery, runId: string, projectId: string, tool: string): Span {
    return tracer().startSpan(
      'audit.run.record',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [Attributes.SERVICE]: 'audit',
          [Attributes.RUN_ID]: runId,
          [Attributes.PROJECT_ID]: projectId,
          [Attributes.TOOL_NAME]: tool,
          [Attributes.MESSAGING_SYSTEM]: delivery.source === 'jetstream' ? 'nats' : 'in-process',
          [Attributes.MESSAGING_DESTINATION]: delivery.subject,
          [Attributes.MESSAGING_OPERATION]: 'process',
        },
      },
      extractTraceContext(delivery.headers),
    );
  }

  /** Runs `work` with the Run's id and span active, so its log lines carry run_id and trace_id. */
  private inRun(item: Storable, work: () => void): void {
    context.with(withRunId(item.record.runId, trace.setSpan(context.active(), item.span)), work);
  }

  private notBefore(): Date | null {
    return this.retentionDays === 0 ? null : new Date(Date.now() - this.retentionDays * DAY_MS);
  }

  private async park(items: ReadonlyArray<{ delivery: RunDelivery; reason: string }>) {
    if (items.length === 0) return;
    try {
      await this.parked.park(
        items.map(({ delivery, reason }) => ({
          source: delivery.source,
          stream: delivery.stream,
          streamSequence: delivery.streamSequence,
          subject: delivery.subject,
          deliveryCount: delivery.deliveryCount,
          reason,
          payload: delivery.payloadText(),
        })),
      );
    } catch (error) {
      this.logger.error({ err: error, count: items.length }, 'cannot park poison run events');
      for (const { delivery } of items) delivery.retry(retryDelayMs(delivery.deliveryCount));
      this.count('retried', items.length);
      return;
    }
    for (const { delivery, reason } of items) {
      this.logger.warn(
        {
          subject: delivery.subject,
          streamSequence: delivery.streamSequence,
          deliveryCount: delivery.deliveryCount,
          reason,
        },
        'parked a run event that cannot be stored',
      );
      delivery.ack();
    }
    this.count('parked', items.length);
  }

  private async store(items: readonly Storable[]): Promise<void> {
    if (items.length === 0) return;
    const { winners } = latestPerRun(items);
    let applied: Set<string>;
    try {
      applied = await this.runs.upsert(
        winners.map((item) => item.record),
        this.notBefore(),
      );
    } catch (error) {
      if (isDataError(error) && items.length > 1) {
        // One event in the batch is unstorable: find it by writing them one at a time.
        for (const item of items) await this.store([item]);
        return;
      }
      if (isDataError(error)) {
        const item = items[0] as Storable;
        const reason = `rejected by PostgreSQL (${sqlState(error) ?? 'unknown'}): ${(error as Error).message}`;
        item.span.end();
        await this.park([{ delivery: item.delivery, reason }]);
        return;
      }
      this.logger.warn(
        { err: error, count: items.length },
        'cannot store run events; they will be redelivered',
      );
      for (const item of items) {
        item.span.setAttribute('tengine.audit.outcome', 'retried');
        item.span.setStatus({ code: 2, message: 'store failed' });
        item.span.end();
        item.delivery.retry(retryDelayMs(item.delivery.deliveryCount));
      }
      this.count('retried', items.length);
      return;
    }
    const appliedItems = new Set(winners.filter((item) => applied.has(item.record.runId)));
    for (const item of items) {
      const outcome: IngestOutcome = appliedItems.has(item) ? 'applied' : 'ignored';
      item.delivery.ack();
      item.span.setAttribute('tengine.audit.outcome', outcome);
      this.inRun(item, () =>
        this.logger.debug(
          { event: item.record.lastEvent, status: item.record.status, outcome },
          'run event recorded',
        ),
      );
      item.span.end();
    }
    this.count('applied', appliedItems.size);
    this.count('ignored', items.length - appliedItems.size);
  }
}
