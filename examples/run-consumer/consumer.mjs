// A customer's service receiving its tengine project's Run events (see docs/audit.md).
//
// The tengine operator creates a durable pull consumer filtered to the project's subjects
// (runs.<project_id>.>) and a NATS user that may only read from that consumer. This program binds
// to it, handles each event, and acknowledges it afterwards: an event whose handling failed (or
// that was in flight when the program died) is delivered again, so handlers must be idempotent;
// use runId + event as the key (the same value as the Nats-Msg-Id header).
//
//   NATS_URL=nats://nats.example.com:4222 NATS_USER=acme NATS_PASSWORD=… \
//   TENGINE_PROJECT_ID=<project id> TENGINE_RUNS_CONSUMER=project-<project id> \
//   node consumer.mjs
import { pathToFileURL } from 'node:url';

import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** The events of a Run: `started`, then one of the outcomes. */
const RUN_EVENTS = new Set(['started', 'succeeded', 'failed', 'indeterminate', 'rejected']);

/**
 * Receives the project's Run events until `signal` aborts, calling `onEvent(event, meta)` for each
 * and acknowledging it once `onEvent` resolved. Resolves when stopped.
 *
 * @param {object} options
 * @param {string} options.servers NATS URL(s).
 * @param {string} [options.user]
 * @param {string} [options.pass]
 * @param {string} options.projectId Your project id: events of any other project are refused.
 * @param {string} [options.stream] The runs stream (TENGINE_RUNS, or TENGINE_RUNS_<PREFIX>).
 * @param {string} options.consumer The durable consumer the operator created for your project.
 * @param {(event: Record<string, unknown>, meta: { subject: string, messageId: string | undefined, redelivered: boolean }) => Promise<void> | void} options.onEvent
 * @param {AbortSignal} [options.signal]
 */
export async function consumeRunEvents(options) {
  const nc = await connect({
    servers: options.servers,
    user: options.user,
    pass: options.pass,
    name: `run-consumer-${options.projectId}`,
    // Replies arrive on an inbox only this project's user may subscribe to (see the permissions).
    inboxPrefix: `_INBOX_${options.projectId}`,
  });
  try {
    // checkAPI: false skips the account-wide $JS.API.INFO request, which this user may not make.
    const js = jetstream(nc, { checkAPI: false });
    const consumer = await js.consumers.get(options.stream ?? 'TENGINE_RUNS', options.consumer);
    const messages = await consumer.consume({ max_messages: 100 });
    options.signal?.addEventListener('abort', () => void messages.close(), { once: true });
    for await (const message of messages) {
      let event;
      try {
        event = message.json();
      } catch {
        message.term('not JSON');
        continue;
      }
      // Defence in depth: the consumer's filter and the user's permissions already confine you to
      // your project; a payload naming another project is refused anyway.
      if (event?.projectId !== options.projectId || !RUN_EVENTS.has(event?.event)) {
        message.term('not an event of this project');
        continue;
      }
      try {
        await options.onEvent(event, {
          subject: message.subject,
          messageId: message.headers?.get('Nats-Msg-Id'),
          redelivered: message.redelivered,
        });
        message.ack();
      } catch (error) {
        // Try again in 5 s; JetStream keeps the event until it is acknowledged.
        console.error(`handling ${event.runId}.${event.event} failed:`, error);
        message.nak(5_000);
      }
    }
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required (see the top of consumer.mjs)`);
    process.exit(2);
  }
  return value;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  await consumeRunEvents({
    servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    user: process.env.NATS_USER,
    pass: process.env.NATS_PASSWORD,
    projectId: required('TENGINE_PROJECT_ID'),
    stream: process.env.TENGINE_RUNS_STREAM,
    consumer: required('TENGINE_RUNS_CONSUMER'),
    signal: controller.signal,
    // Replace with your own handling (store it, update a dashboard, alert on failures…).
    onEvent: (event, meta) => {
      process.stdout.write(`${JSON.stringify({ ...meta, event })}\n`);
    },
  });
}
