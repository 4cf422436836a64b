import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';

import { RunsStream } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import {
  APP_LOGGER,
  MESSAGE_BUS,
  NATS_CONNECTION,
  RAW_ENVIRONMENT,
  type NatsLink,
} from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { loadAuditEnv, type AuditEnv } from '../env.schema.js';
import { BusRunSource } from './bus-run-source.js';
import { JetStreamRunSource } from './jetstream-run-source.js';
import type { IngestStats } from './metrics.js';
import { MicroBatcher } from './micro-batcher.js';
import { RunIngestor, type RunDelivery } from './run-ingestor.js';

/** Where this replica takes Run events from. */
export type RunEventTransport = 'jetstream' | 'bus';

/**
 * Feeds Run events to the {@link RunIngestor} in batches: from the executor's JetStream runs stream
 * when the service has a NATS connection, from the in-process bus in embedded mode.
 */
@Injectable()
export class RunEventsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly env: AuditEnv;
  private readonly batcher: MicroBatcher<RunDelivery>;
  private source: JetStreamRunSource | BusRunSource | undefined;

  constructor(
    private readonly ingestor: RunIngestor,
    @Inject(NATS_CONNECTION) private readonly nats: NatsLink | null,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(RAW_ENVIRONMENT) environment: Readonly<Record<string, string | undefined>>,
  ) {
    this.env = loadAuditEnv(environment);
    this.batcher = new MicroBatcher<RunDelivery>(
      { maxSize: this.env.AUDIT_BATCH_SIZE, lingerMs: this.env.AUDIT_BATCH_LINGER_MS },
      (deliveries) => this.ingestor.ingest(deliveries),
      // ingest() settles every delivery itself; reaching this is a bug, and the events are redelivered.
      (error) => this.logger.error({ err: error }, 'run event batch failed'),
    );
  }

  get transport(): RunEventTransport {
    return this.nats === null ? 'bus' : 'jetstream';
  }

  /** The JetStream stream read in NATS mode. */
  get streamName(): string | null {
    if (this.nats === null) return null;
    return RunsStream.name(this.nats.subjectPrefix, this.env.TENGINE_RUNS_STREAM);
  }

  /** Resolves once events flow (in NATS mode: once the durable consumer is bound). */
  ready(): Promise<void> {
    return this.source instanceof JetStreamRunSource ? this.source.ready() : Promise.resolve();
  }

  stats(): IngestStats {
    return this.ingestor.stats();
  }

  onApplicationBootstrap(): void {
    const deliver = (delivery: RunDelivery): void => this.batcher.add(delivery);
    if (this.nats === null) {
      this.source = new BusRunSource(this.bus, this.logger, () => this.ingestor.count('dropped'));
    } else {
      this.source = new JetStreamRunSource(
        this.nats,
        {
          stream: RunsStream.name(this.nats.subjectPrefix, this.env.TENGINE_RUNS_STREAM),
          consumer: this.env.AUDIT_CONSUMER_NAME,
          maxAckPending: this.env.AUDIT_MAX_ACK_PENDING,
          ackWaitMs: this.env.AUDIT_ACK_WAIT_MS,
          pullSize: Math.min(this.env.AUDIT_BATCH_SIZE * 2, this.env.AUDIT_MAX_ACK_PENDING),
        },
        this.logger,
      );
    }
    this.source.start(deliver);
  }

  /** Stops intake, then writes and acknowledges what was already received. */
  async onModuleDestroy(): Promise<void> {
    await this.source?.stop();
    await this.batcher.drain();
  }
}
