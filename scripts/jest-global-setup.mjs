// Integration suites run against the machine's real PostgreSQL and NATS. Check both answer before
// any suite starts, and say how to start them if not, rather than letting every suite time out.
import { connect } from 'node:net';

function reachable(url, fallbackPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || fallbackPort), hostname);
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export default async function globalSetup(globalConfig) {
  // Only unit tests alone run without the services; every other project (integration, chaos,
  // attacks) needs them.
  const selected = globalConfig?.selectProjects ?? [];
  if (selected.length > 0 && selected.every((project) => project === 'unit')) return;
  const pgUrl =
    process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const missing = [];
  if (!(await reachable(pgUrl, 5432))) missing.push(`PostgreSQL at ${new URL(pgUrl).host}`);
  if (!(await reachable(natsUrl, 4222))) missing.push(`NATS at ${new URL(natsUrl).host}`);
  if (missing.length > 0) {
    throw new Error(
      `These tests need ${missing.join(' and ')}, which did not answer. ` +
        'Start them (bash .ci/run installs and starts both, then runs the suite) or point ' +
        'TEST_DATABASE_ADMIN_URL / TEST_NATS_URL at running ones.',
    );
  }
}
