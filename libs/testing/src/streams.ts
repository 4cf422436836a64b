import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { RunsStream } from '@tengine/contracts';

import { TEST_NATS_URL } from './infrastructure.js';

/** Removes the Run stream an executor created for a subject prefix on the test NATS, if any. */
export async function deleteRunsStream(subjectPrefix: string): Promise<void> {
  const connection = await connect({ servers: TEST_NATS_URL });
  try {
    const manager = await jetstreamManager(connection);
    await manager.streams.delete(RunsStream.name(subjectPrefix)).catch(() => false);
  } finally {
    await connection.close();
  }
}
