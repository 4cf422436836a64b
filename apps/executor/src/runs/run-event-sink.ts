import {
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  type JetStreamClient,
  type StreamConfig,
} from '@nats-io/jetstream';

import { RunsStream, Subjects, type RunEvent } from '@tengine/contracts';
import { APP_LOGGER, MESSAGE_BUS, NATS_CONNECTION, type NatsLink } from '@tengine/runtime';
import { toNatsHeaders, type MessageBus } from '@tengine/messaging';
import { injectTraceHeaders, type Logger } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';

/** Where Run events go. `publish` resolves only once the event is durably accepted. */
export interface RunEventSink {
  readonly kind: 'jetstream' | 'in-process';
  publish(event: RunEvent): Promise<void>;
}

export const RUN_EVENT_SINK = Symbol('executor.run-event-sink');

/** JetStream API error: a stream with this name exists with another configuration. */
const STREAM_NAME_IN_USE = 10058;
const NANOS_PER_MS = 1_000_000;

/**
 * Run events on JetStream: subject `runs.<project_id>.<event>` (with the NATS subject prefix in
 * front), `Nats-Msg-Id` `<run_id>.<event>` so a republished event is dropped as a duplicate, and
 * the publish acknowledged before it resolves. The stream is created (or its limits updated) on
 * first use, idempotently, so replicas starting together agree.
 */
export class JetStreamRunEventSink implements RunEventSink {
  readonly kind = 'jetstream' as const;
  readonly streamName: string;
  private readonly client: JetStreamClient;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly link: NatsLink,
    private readonly config: ExecutorConfig['runs'],
    private readonly logger: Logger,
  ) {
    this.streamName = RunsStream.name(link.subjectPrefix, config.streamBase);
    this.client = jetstream(link.connection, { timeout: config.ackTimeoutMs });
  }

  /** The stream configuration this executor wants. */
  streamConfig(): Partial<StreamConfig> & { name: string } {
    return {
      name: this.streamName,
      description: 'tengine Run events (started and terminal), per project',
      subjects: [RunsStream.filter(this.link.subjectPrefix)],
      // File storage: acknowledged events survive a NATS restart. Fsync on every write is the
      // server's `sync_interval: always` (server-wide); R3 replication covers node loss.
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: this.config.maxAgeHours * 3_600_000 * NANOS_PER_MS,
      duplicate_window: this.config.duplicateWindowSeconds * 1_000 * NANOS_PER_MS,
      num_replicas: this.config.replicas,
    };
  }

  /** Creates the stream, or brings its limits up to date; safe to call from every replica. */
  async ensureStream(): Promise<void> {
    const manager = await jetstreamManager(this.link.connection, {
      timeout: this.config.ackTimeoutMs,
    });
    const wanted = this.streamConfig();
    try {
      await manager.streams.add(wanted);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NAME_IN_USE) throw error;
      // Only limits can change on an existing stream (storage and retention are fixed at creation).
      await manager.streams.update(wanted.name, {
        subjects: wanted.subjects ?? [],
        description: wanted.description ?? '',
        max_age: wanted.max_age ?? 0,
        duplicate_window: wanted.duplicate_window ?? 0,
        num_replicas: wanted.num_replicas ?? 1,
      });
    }
  }

  private ensureOnce(): Promise<void> {
    this.ready ??= this.ensureStream().catch((error: unknown) => {
      this.ready = undefined;
      throw new Error(
        `Cannot create JetStream stream ${this.streamName}: ${(error as Error).message}. ` +
          'Run nats-server with JetStream enabled (-js).',
        { cause: error },
      );
    });
    return this.ready;
  }

  async publish(event: RunEvent): Promise<void> {
    await this.ensureOnce();
    const subject = RunsStream.subject(this.link.subjectPrefix, event.projectId, event.event);
    // The traceparent lets audit continue the Run's trace (gateway → executor → audit).
    const options = {
      msgID: RunsStream.messageId(event.runId, event.event),
      headers: toNatsHeaders(injectTraceHeaders()),
    };
    try {
      await this.client.publish(subject, JSON.stringify(event), options);
    } catch (error) {
      // The stream may have been deleted by an operator: recreate it once and try again.
      this.logger.warn({ err: error, subject }, 'run event not acknowledged; retrying once');
      this.ready = undefined;
      await this.ensureOnce();
      await this.client.publish(subject, JSON.stringify(event), options);
    }
  }
}

/**
 * Embedded mode has no JetStream: Run events go on the in-process bus (`evt.executor.run.*`),
 * which delivers to local subscribers (audit) in the same process.
 */
export class BusRunEventSink implements RunEventSink {
  readonly kind = 'in-process' as const;

  constructor(private readonly bus: MessageBus) {}

  publish(event: RunEvent): Promise<void> {
    this.bus.publish(
      event.event === 'started' ? Subjects.executor.runStarted : Subjects.executor.runCompleted,
      event,
    );
    return Promise.resolve();
  }
}

/** Chooses the sink: JetStream over NATS, the bus in embedded mode. */
export function runEventSinkFor(
  link: NatsLink | null,
  bus: MessageBus,
  config: ExecutorConfig,
  logger: Logger,
): RunEventSink {
  return link ? new JetStreamRunEventSink(link, config.runs, logger) : new BusRunEventSink(bus);
}

/** Provides {@link RUN_EVENT_SINK}. */
export const RUN_EVENT_SINK_PROVIDER = {
  provide: RUN_EVENT_SINK,
  inject: [NATS_CONNECTION, MESSAGE_BUS, EXECUTOR_CONFIG, APP_LOGGER],
  useFactory: runEventSinkFor,
};
