import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';

import { RunsStream } from '@tengine/contracts';
import { fromNatsHeaders } from '@tengine/messaging';
import type { NatsLink } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import type { RunDelivery } from './run-ingestor.js';
import { decodeRunEventBytes, subjectMismatch } from './run-event-decoder.js';

/** How the audit replicas consume the runs stream. */
export interface JetStreamSourceOptions {
  /** The executor's runs stream. */
  readonly stream: string;
  /** The durable consumer all audit replicas share. */
  readonly consumer: string;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  /** Messages one replica asks for at a time. */
  readonly pullSize: number;
}

const textDecoder = new TextDecoder();

/**
 * The runs stream's events through one durable pull consumer. Every audit replica binds the same
 * consumer and pulls from it, so each event goes to one replica at a time; acks are explicit, the
 * unacknowledged total is bounded (`max_ack_pending`), and an event not acknowledged within
 * `ack_wait` (its replica died) or refused with a nak (the database failed) is delivered again.
 * Deliveries are unlimited: poison events are parked rather than left to exhaust a limit, so the
 * only events retried for long are ones the database could not take yet.
 */
export class JetStreamRunSource {
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private bound: (() => void) | undefined;
  private readonly boundOnce: Promise<void>;

  constructor(
    private readonly link: NatsLink,
    private readonly options: JetStreamSourceOptions,
    private readonly logger: Logger,
  ) {
    this.boundOnce = new Promise((resolve) => {
      this.bound = resolve;
    });
  }

  /** Resolves once the consumer exists and pulling has started (the stream may appear later). */
  ready(): Promise<void> {
    return this.boundOnce;
  }

  /** Starts pulling in the background; retries until the stream exists. */
  start(deliver: (delivery: RunDelivery) => void): void {
    this.loop = this.run(deliver);
  }

  /** Stops pulling; unacknowledged events go to other replicas after `ack_wait`. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(deliver: (delivery: RunDelivery) => void): Promise<void> {
    let backoffMs = 250;
    let warned = false;
    while (!this.stopping) {
      try {
        const manager = await jetstreamManager(this.link.connection);
        await this.ensureConsumer(manager);
        const consumer = await jetstream(this.link.connection).consumers.get(
          this.options.stream,
          this.options.consumer,
        );
        if (this.stopping) return;
        const messages = await consumer.consume({ max_messages: this.options.pullSize });
        this.messages = messages;
        // stop() may have run while consume() was starting, before it could close these messages.
        if (this.stopping) {
          await messages.close().catch(() => undefined);
          return;
        }
        void this.closeWhenConsumerIsGone(messages);
        this.logger.info(
          { stream: this.options.stream, consumer: this.options.consumer },
          'consuming run events',
        );
        this.bound?.();
        backoffMs = 250;
        warned = false;
        for await (const message of messages) deliver(this.delivery(message));
      } catch (error) {
        if (this.stopping) return;
        // The executor creates the stream with its first Run: until then audit polls (every 2 s at
        // most, so the first Runs are stored within seconds), saying so once.
        const missingStream =
          error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
        if (!warned) {
          const fields = { err: error, stream: this.options.stream };
          if (missingStream)
            this.logger.info(fields, 'waiting for the executor to create the runs stream');
          else this.logger.warn(fields, 'cannot consume the runs stream yet; retrying');
        }
        warned = true;
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }

  /**
   * Ends the iteration when the consumer or its stream disappears (an operator deleted or
   * recreated the stream): the loop then creates the consumer again instead of waiting forever.
   */
  private async closeWhenConsumerIsGone(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (
        status.type === 'consumer_not_found' ||
        status.type === 'consumer_deleted' ||
        status.type === 'stream_not_found'
      ) {
        this.logger.warn({ status: status.type }, 'runs consumer lost; binding it again');
        await messages.close().catch(() => undefined);
        return;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Creates the durable consumer, or brings the settings audit owns up to date. Replicas racing
   * here are harmless: creating a consumer that exists with the same configuration succeeds.
   */
  private async ensureConsumer(manager: JetStreamManager): Promise<void> {
    const { stream, consumer, maxAckPending, ackWaitMs } = this.options;
    const ackWaitNanos = ackWaitMs * 1_000_000;
    try {
      const info = await manager.consumers.info(stream, consumer);
      if (info.config.max_ack_pending !== maxAckPending || info.config.ack_wait !== ackWaitNanos) {
        await manager.consumers.update(stream, consumer, {
          max_ack_pending: maxAckPending,
          ack_wait: ackWaitNanos,
        });
      }
      return;
    } catch (error) {
      if (
        !(error instanceof JetStreamApiError) ||
        error.code !== JetStreamApiCodes.ConsumerNotFound
      )
        throw error;
    }
    await manager.consumers.add(stream, {
      durable_name: consumer,
      description: 'tengine audit: stores every Run; shared by all audit replicas',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: RunsStream.filter(this.link.subjectPrefix),
      max_ack_pending: maxAckPending,
      ack_wait: ackWaitNanos,
      max_deliver: -1,
    });
  }

  private delivery(message: JsMsg): RunDelivery {
    let decoded = decodeRunEventBytes(message.data);
    if (decoded.ok) {
      const mismatch = subjectMismatch(message.subject, this.link.subjectPrefix, decoded.event);
      if (mismatch !== null) decoded = { ok: false, reason: mismatch };
    }
    return {
      source: 'jetstream',
      subject: message.subject,
      stream: this.options.stream,
      streamSequence: message.seq,
      deliveryCount: message.info.deliveryCount,
      headers: fromNatsHeaders(message.headers),
      decoded,
      payloadText: () => textDecoder.decode(message.data),
      ack: () => message.ack(),
      retry: (delayMs) => message.nak(delayMs),
    };
  }
}
