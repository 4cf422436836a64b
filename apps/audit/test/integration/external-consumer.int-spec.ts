import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { RunsStream, type RunEvent } from '@tengine/contracts';
import { freePort, removeDir, waitUntil } from '@tengine/testing';

import { runOwner, runPair } from '../support/run-events.js';

const STREAM = RunsStream.name('');
const ACME_PASSWORD = 'acme-password-0123456789';
const OPERATOR_PASSWORD = 'operator-password-0123456789';

/** The permission template of docs/audit.md, filled in for one project. */
function consumerPermissions(projectId: string, consumer: string): string {
  return `{
        publish: {
          allow: [
            "$JS.API.CONSUMER.INFO.${STREAM}.${consumer}",
            "$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${consumer}",
            "$JS.ACK.${STREAM}.${consumer}.>",
            "$JS.ACK.*.*.${STREAM}.${consumer}.>"
          ]
        }
        subscribe: { allow: ["_INBOX_${projectId}.>"] }
      }`;
}

describe('an external consumer of one project’s run events (examples/run-consumer)', () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'tengine-nats-perm-'));
  const acme = runOwner();
  const other = runOwner();
  const consumerName = `project-${acme.projectId}`;
  let server: ChildProcess | undefined;
  let url = '';
  let operator: NatsConnection;
  let example: ChildProcess | undefined;
  let printed = '';

  beforeAll(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    const config = join(storeDir, 'nats.conf');
    writeFileSync(
      config,
      `listen: "127.0.0.1:${port}"
jetstream { store_dir: "${join(storeDir, 'js')}" }
accounts {
  TENGINE {
    jetstream: enabled
    users: [
      { user: operator, password: "${OPERATOR_PASSWORD}" }
      { user: acme, password: "${ACME_PASSWORD}", permissions: ${consumerPermissions(acme.projectId, consumerName)} }
    ]
  }
}
`,
    );
    server = spawn(process.env['NATS_SERVER_BIN'] ?? 'nats-server', ['-c', config], {
      stdio: 'ignore',
    });
    await waitUntil(
      async () => {
        operator = await connect({ servers: url, user: 'operator', pass: OPERATOR_PASSWORD });
        return true;
      },
      10_000,
      100,
    );
    // What the executor and the operator do: the runs stream, and the project's own consumer.
    const jsm = await jetstreamManager(operator);
    await jsm.streams.add({ name: STREAM, subjects: [RunsStream.filter('')] });
    await jsm.consumers.add(STREAM, {
      durable_name: consumerName,
      ack_policy: AckPolicy.Explicit,
      filter_subject: `runs.${acme.projectId}.>`,
    });
  });

  afterAll(async () => {
    example?.kill('SIGKILL');
    await operator?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolveExit) => server?.once('exit', resolveExit));
      server.kill('SIGTERM');
      await exited;
    }
    removeDir(storeDir);
  });

  const publish = async (event: RunEvent) => {
    await jetstream(operator).publish(
      RunsStream.subject('', event.projectId, event.event),
      JSON.stringify(event),
      { msgID: RunsStream.messageId(event.runId, event.event) },
    );
  };

  it('should receive its project’s events and nothing of another project', async () => {
    example = spawn(process.execPath, [resolve('examples/run-consumer/consumer.mjs')], {
      env: {
        PATH: process.env['PATH'] ?? '',
        NATS_URL: url,
        NATS_USER: 'acme',
        NATS_PASSWORD: ACME_PASSWORD,
        TENGINE_PROJECT_ID: acme.projectId,
        TENGINE_RUNS_CONSUMER: consumerName,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    example.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    example.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const mine = runPair('succeeded', acme);
    for (const event of [...runPair('failed', other), mine[0], mine[1]]) await publish(event);
    const lines = () =>
      printed
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { event: RunEvent; messageId: string });
    await waitUntil(() => Promise.resolve(lines().length >= 2), 10_000, 50);
    // Give a stray event of the other project every chance to show up.
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    expect(lines().map((line) => [line.event.projectId, line.event.event, line.messageId])).toEqual(
      [
        [acme.projectId, 'started', `${mine[0].runId}.started`],
        [acme.projectId, 'succeeded', `${mine[0].runId}.succeeded`],
      ],
    );
    const info = await (await jetstreamManager(operator)).consumers.info(STREAM, consumerName);
    expect(info.num_ack_pending).toBe(0);
  });

  it('should not let the project’s user read another project’s events any other way', async () => {
    const user = await connect({
      servers: url,
      user: 'acme',
      pass: ACME_PASSWORD,
      inboxPrefix: `_INBOX_${acme.projectId}`,
    });
    try {
      const denied = [
        // A consumer of its own on the other project's subjects.
        `$JS.API.CONSUMER.CREATE.${STREAM}.mine.runs.${other.projectId}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.mine`,
        // Reading stored messages directly, or the stream's description.
        `$JS.API.STREAM.MSG.GET.${STREAM}`,
        `$JS.API.DIRECT.GET.${STREAM}`,
        `$JS.API.STREAM.INFO.${STREAM}`,
        // Another project's consumer.
        `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.project-${other.projectId}`,
      ];
      // The one consumer it may use answers (so the refusals below are the permissions at work).
      const own = await user.request(`$JS.API.CONSUMER.INFO.${STREAM}.${consumerName}`, '', {
        timeout: 2_000,
      });
      expect(own.json<{ name: string }>().name).toBe(consumerName);
      for (const subject of denied) {
        await expect(user.request(subject, '{}', { timeout: 1_000 })).rejects.toThrow();
      }
      // Live core subscriptions to the runs subjects are refused as well.
      const received: string[] = [];
      const subscription = user.subscribe(`runs.${other.projectId}.>`, {
        callback: (_error, message) => {
          received.push(message.subject);
        },
      });
      await user.flush().catch(() => undefined);
      await publish(runPair('succeeded', other)[1]);
      await new Promise((resolveWait) => setTimeout(resolveWait, 300));
      expect(received).toEqual([]);
      subscription.unsubscribe();
    } finally {
      await user.close();
    }
  });
});
