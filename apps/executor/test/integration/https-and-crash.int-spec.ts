import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ulid } from 'ulid';

import { DomainError, type RunEvent, type Tool } from '@tengine/contracts';
import { MemoryReplayStore, verifyRequest } from '@tengine/sdk';
import {
  freePort,
  REPO_ROOT,
  removeDir,
  startApp,
  TEST_NATS_URL,
  waitUntil,
  type AppProcess,
} from '@tengine/testing';

import {
  executorHarness,
  FAST_EXECUTOR_ENV,
  json,
  TestUpstream,
  type ExecutorHarness,
} from './harness.js';

const SECRET = `whsec_${Buffer.from('https-crash-suite-secret-0000001').toString('base64')}`;

/**
 * A throw-away CA and a certificate for localhost/127.0.0.1 signed by it. The executor trusts the
 * CA only through NODE_EXTRA_CA_CERTS (added to Node's default roots, which stay in place).
 */
function makeCertificates(directory: string): { ca: string; key: string; cert: string } {
  const path = (name: string): string => join(directory, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path('ca.key'));
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=tengine executor test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path('leaf.key'));
  openssl(
    'req',
    '-new',
    '-key',
    path('leaf.key'),
    '-out',
    path('leaf.csr'),
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(
    path('leaf.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path('leaf.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('leaf.pem'),
    '-days',
    '2',
    '-extfile',
    path('leaf.ext'),
  );
  return {
    ca: path('ca.pem'),
    key: readFileSync(path('leaf.key'), 'utf8'),
    cert: readFileSync(path('leaf.pem'), 'utf8'),
  };
}

/**
 * NODE_EXTRA_CA_CERTS is read once at process start, so this suite runs the executor as its own
 * process (the built `apps/executor/dist/main.js`, as in production) with the variable set; the
 * registry and the client stay in the test process on the same subject namespace.
 */
describe('executor over HTTPS in its own process, and a crash mid-call', () => {
  let directory: string;
  let harness: ExecutorHarness;
  let upstream: TestUpstream;
  let ca: string;
  const processes: AppProcess[] = [];
  /** Effects the API applied (what a real API would do with each request). */
  let effects = 0;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'apps/executor/dist/main.js'))) {
      throw new Error('apps/executor/dist/main.js is missing: run npm run build first');
    }
    directory = mkdtempSync(join(tmpdir(), 'tengine-executor-tls-'));
    const certificates = makeCertificates(directory);
    ca = certificates.ca;
    upstream = await TestUpstream.start({
      tls: { key: certificates.key, cert: certificates.cert },
    });
    harness = await executorHarness({ TENGINE_EGRESS_ALLOW: '127.0.0.1/32' });
  });

  afterAll(async () => {
    for (const child of processes) await child.stop('SIGKILL').catch(() => undefined);
    await harness?.close();
    await upstream?.close();
    if (directory) removeDir(directory);
  });

  async function startExecutorProcess(): Promise<AppProcess> {
    const port = await freePort();
    const child = startApp('executor', {
      ...FAST_EXECUTOR_ENV,
      NODE_EXTRA_CA_CERTS: ca,
      NATS_URL: TEST_NATS_URL,
      NATS_SUBJECT_PREFIX: harness.subjectPrefix,
      DATABASE_URL: harness.database.url,
      TENGINE_EGRESS_ALLOW: '127.0.0.1/32',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    processes.push(child);
    await waitUntil(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      return response.status === 200;
    }, 30_000);
    return child;
  }

  async function eventsOf(runId: string): Promise<RunEvent[]> {
    return (await harness.runEvents()).filter((event) => event.runId === runId);
  }

  it('should call an HTTPS API whose CA is trusted through NODE_EXTRA_CA_CERTS, signed', async () => {
    const child = await startExecutorProcess();
    const verified: string[] = [];
    upstream.handler = async (request, response) => {
      const result = await verifyRequest({
        secret: SECRET,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        replayStore: new MemoryReplayStore(),
      });
      verified.push(result.projectId);
      json(response, 200, { tls: true });
    };
    const tool = await harness.createTool({
      name: 'tls_lookup',
      base_url: `https://localhost:${upstream.port}`,
      endpoint_path: '/lookup/{{id}}',
      auth_strategy: 'hmac_signature',
      encrypted_auth_secret: SECRET,
    });
    const reply = await harness.execute(tool, { id: '../x' });
    expect(reply).toMatchObject({ status: 'succeeded', upstream: { json: { tls: true } } });
    expect(upstream.received('/lookup/..%2Fx')).toHaveLength(1);
    expect(verified).toEqual([harness.projectId]);
    await child.stop('SIGTERM');
  });

  it('should refuse the same certificate without NODE_EXTRA_CA_CERTS (the default trust store is kept)', async () => {
    const untrusting = await executorHarness({ TENGINE_EGRESS_ALLOW: '127.0.0.1/32' });
    try {
      await untrusting.startExecutor();
      const tool = await untrusting.createTool({
        name: 'tls_untrusted',
        base_url: `https://localhost:${upstream.port}`,
        endpoint_path: '/untrusted',
      });
      const reply = await untrusting.execute(tool, {});
      expect(reply).toMatchObject({
        status: 'failed',
        // A certificate error is permanent: no retry.
        attempts: 1,
        error: { code: 'EXECUTOR_UPSTREAM_CONNECTION_ERROR', status: 502 },
      });
      expect(upstream.received('/untrusted')).toHaveLength(0);
    } finally {
      await untrusting.close();
    }
  });

  /** Starts a call that the API receives but never answers, then kills the executor (SIGKILL). */
  async function crashMidCall(tool: Tool, key: string): Promise<string> {
    const child = await startExecutorProcess();
    const runId = ulid();
    const before = upstream.requests.length;
    const pending = harness
      .execute(tool, { amount: 1 }, { runId, idempotencyKey: key, timeoutMs: 3_000 })
      .then(
        () => 'answered',
        (error: unknown) => (error instanceof DomainError ? error.code : 'other'),
      );
    await waitUntil(() => Promise.resolve(upstream.requests.length > before), 10_000, 20);
    await child.stop('SIGKILL');
    // The caller (the gateway) gets no reply: it reports the Run id with an error.
    await expect(pending).resolves.toMatch(/^RPC_(TIMEOUT|NO_RESPONDERS)$/);
    expect((await eventsOf(runId)).map((event) => event.event)).toEqual(['started']);
    return runId;
  }

  it('should lose no Run and duplicate no write when the executor is killed mid-call', async () => {
    upstream.handler = (request) => {
      if (request.url.startsWith('/charge')) effects += 1; // applied, but the answer never comes
    };
    const charge = await harness.createTool({
      name: 'tls_charge',
      method: 'POST',
      base_url: `https://localhost:${upstream.port}`,
      endpoint_path: '/charge',
      body_template: { amount: '{{amount}}' },
      timeout_ms: 1_000,
    });
    const deadRun = await crashMidCall(charge, 'crash-1');
    await startExecutorProcess();
    // Any replica ends the abandoned Run once its lease expires.
    await waitUntil(async () => (await eventsOf(deadRun)).length === 2, 15_000);
    expect((await eventsOf(deadRun))[1]).toMatchObject({
      event: 'indeterminate',
      errorCode: 'EXECUTOR_RUN_INTERRUPTED',
    });
    // The client retries with the same key: the write is not sent again.
    upstream.handler = (_request, response) => json(response, 201, { charged: true });
    const retry = await harness.execute(charge, { amount: 1 }, { idempotencyKey: 'crash-1' });
    expect(retry).toMatchObject({
      status: 'indeterminate',
      replayed: true,
      replayedFromRunId: deadRun,
      error: { code: 'EXECUTOR_RUN_INTERRUPTED' },
    });
    expect(effects).toBe(1);
    expect(upstream.received('/charge')).toHaveLength(1);
  });

  it('should complete an interrupted read with the retry', async () => {
    upstream.handler = () => undefined;
    const read = await harness.createTool({
      name: 'tls_read',
      base_url: `https://localhost:${upstream.port}`,
      endpoint_path: '/balance',
      timeout_ms: 1_000,
    });
    const deadRun = await crashMidCall(read, 'crash-2');
    await startExecutorProcess();
    upstream.handler = (_request, response) => json(response, 200, { balance: 10 });
    await waitUntil(async () => (await eventsOf(deadRun)).length === 2, 15_000);
    const retry = await harness.execute(read, { amount: 1 }, { idempotencyKey: 'crash-2' });
    expect(retry).toMatchObject({
      status: 'succeeded',
      replayed: false,
      upstream: { json: { balance: 10 } },
    });
  });
});
