import { Subjects, type RunEvent } from '@tengine/contracts';
import type { MessageBus, MessageHeaders } from '@tengine/messaging';
import type { Logger } from '@tengine/telemetry';

import { decodeRunEventObject, type DecodedRunEvent } from './run-event-decoder.js';
import type { RunDelivery } from './run-ingestor.js';

/** Attempts at storing one in-process event before it is given up (there is no redelivery). */
export const BUS_MAX_ATTEMPTS = 5;

const SUBJECTS = [Subjects.executor.runStarted, Subjects.executor.runCompleted] as const;

/**
 * Embedded mode's Run events: without NATS there is no JetStream, so the executor publishes them on
 * the in-process bus and audit subscribes (one audit in the process). Delivery is at most once, as
 * the in-process bus is: a failed write is retried here a few times, then the event is counted as
 * dropped. Good enough for trying tengine on a laptop; production runs on JetStream.
 */
export class BusRunSource {
  private readonly unsubscribers: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly bus: MessageBus,
    private readonly logger: Logger,
    private readonly onDropped: () => void,
  ) {}

  start(deliver: (delivery: RunDelivery) => void): void {
    for (const subject of SUBJECTS) {
      this.unsubscribers.push(
        this.bus.subscribe(
          subject,
          (payload, headers) => deliver(this.delivery(subject, payload, headers, 1, deliver)),
          (reason) => deliver(this.delivery(subject, null, {}, 1, deliver, { ok: false, reason })),
        ),
      );
    }
  }

  /** Unsubscribes; events waiting for a retry are dropped (and counted). */
  stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const timer of this.timers) {
      clearTimeout(timer);
      this.onDropped();
    }
    this.timers.clear();
    return Promise.resolve();
  }

  private delivery(
    subject: string,
    payload: RunEvent | null,
    headers: MessageHeaders,
    attempt: number,
    deliver: (delivery: RunDelivery) => void,
    invalid?: DecodedRunEvent,
  ): RunDelivery {
    const decoded = invalid ?? decodeRunEventObject(payload);
    return {
      source: 'bus',
      subject,
      stream: null,
      streamSequence: null,
      deliveryCount: attempt,
      headers,
      decoded,
      payloadText: () => (payload === null ? null : JSON.stringify(payload)),
      ack: () => undefined,
      retry: (delayMs) => {
        if (attempt >= BUS_MAX_ATTEMPTS) {
          this.logger.error(
            { subject, runId: payload?.runId, attempts: attempt },
            'run event dropped: it could not be stored',
          );
          this.onDropped();
          return;
        }
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          deliver(this.delivery(subject, payload, headers, attempt + 1, deliver, invalid));
        }, delayMs);
        this.timers.add(timer);
      },
    };
  }
}
