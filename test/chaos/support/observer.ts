import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { RunsStream } from '@tengine/contracts';

/** What a customer's consumer saw of one Run. */
export interface ObservedRun {
  readonly runId: string;
  readonly projectId: string;
  /** When the `started` event arrived (first delivery). */
  startedAt?: number;
  /** The terminal event (first delivery) and when it arrived. */
  terminal?: { readonly event: string; readonly at: number };
  /** Deliveries of any event of this Run, duplicates included. */
  deliveries: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'indeterminate', 'rejected']);

/**
 * An external consumer of the runs stream, as a customer's audit consumer would be: its own NATS
 * connection, its own durable pull consumer on every project's subjects, explicit acks after the
 * event is recorded. It keeps binding again across NATS restarts.
 */
export class RunObserver {
  readonly runs = new Map<string, ObservedRun>();
  private connection: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly consumer: string,
  ) {}

  static start(url: string, prefix: string, consumer = 'chaos-observer'): RunObserver {
    const observer = new RunObserver(url, prefix, consumer);
    observer.loop = observer.run();
    return observer;
  }

  /** The Runs of one project. */
  ofProject(projectId: string): ObservedRun[] {
    return [...this.runs.values()].filter((run) => run.projectId === projectId);
  }

  private async run(): Promise<void> {
    const stream = RunsStream.name(this.prefix);
    while (!this.stopping) {
      try {
        this.connection ??= await connect({
          servers: this.url,
          name: 'chaos-observer',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 2_000,
          maxPingOut: 2,
        });
        const manager = await jetstreamManager(this.connection);
        await manager.consumers.info(stream, this.consumer).catch(async (error: unknown) => {
          if (
            !(error instanceof JetStreamApiError) ||
            error.code !== JetStreamApiCodes.ConsumerNotFound
          )
            throw error;
          await manager.consumers.add(stream, {
            durable_name: this.consumer,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            filter_subject: RunsStream.filter(this.prefix),
            max_ack_pending: 10_000,
            ack_wait: 10_000_000_000,
          });
        });
        const consumer = await jetstream(this.connection).consumers.get(stream, this.consumer);
        const messages = await consumer.consume({ max_messages: 500 });
        this.messages = messages;
        if (this.stopping) break;
        for await (const message of messages) {
          try {
            this.record(message.json<Record<string, unknown>>());
          } catch {
            // Not a Run event: nothing to record.
          }
          message.ack();
        }
      } catch {
        if (this.stopping) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private record(event: Record<string, unknown>): void {
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const runId = text(event['runId']);
    const name = text(event['event']);
    let run = this.runs.get(runId);
    if (!run) {
      run = { runId, projectId: text(event['projectId']), deliveries: 0 };
      this.runs.set(runId, run);
    }
    run.deliveries += 1;
    const now = Date.now();
    if (name === 'started') run.startedAt ??= now;
    else if (TERMINAL.has(name)) run.terminal ??= { event: name, at: now };
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.loop;
  }
}
