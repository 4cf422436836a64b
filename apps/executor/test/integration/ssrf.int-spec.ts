import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import type { RunningService } from '@tengine/runtime';

import { executorHarness, TestUpstream, type ExecutorHarness } from './harness.js';

interface ConnectParams {
  readonly hostname: string;
  readonly port: string;
}

/** Every connection undici opened or failed to open in this process, from its diagnostics channels. */
function watchConnections() {
  const connected: ConnectParams[] = [];
  const refused: Array<{ params: ConnectParams; code: string }> = [];
  const onConnected = (message: unknown): void => {
    connected.push((message as { connectParams: ConnectParams }).connectParams);
  };
  const onError = (message: unknown): void => {
    const { connectParams, error } = message as {
      connectParams: ConnectParams;
      error: { code?: string };
    };
    refused.push({ params: connectParams, code: error.code ?? '' });
  };
  subscribe('undici:client:connected', onConnected);
  subscribe('undici:client:connectError', onError);
  return {
    connected,
    refused,
    stop: () => {
      unsubscribe('undici:client:connected', onConnected);
      unsubscribe('undici:client:connectError', onError);
    },
  };
}

describe('executor egress policy (SSRF) on real connections', () => {
  let harness: ExecutorHarness;
  /** Not allowlisted: any request reaching it is a policy failure. */
  let loopback: TestUpstream;
  /** Allowlisted on purpose (TENGINE_EGRESS_ALLOW=127.0.0.2), used for the redirect case. */
  let allowed: TestUpstream;
  let executor: RunningService;

  beforeAll(async () => {
    loopback = await TestUpstream.start({ host: '127.0.0.1' });
    allowed = await TestUpstream.start({ host: '127.0.0.2' });
    harness = await executorHarness(
      // The loopback port is opened as a port, not as an address: only the address rule can stop it.
      { TENGINE_EGRESS_ALLOW: `127.0.0.2/32 :${loopback.port}` },
      { TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1,127.0.0.2,localhost' },
    );
    executor = await harness.startExecutor();
  });

  afterAll(async () => {
    await harness?.close();
    await loopback?.close();
    await allowed?.close();
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['localhost', 'localhost resolves to 127.0.0.1 (loopback)'],
  ])('should block %s before any connection', async (host, reason) => {
    const watch = watchConnections();
    try {
      const tool = await harness.createTool({
        name: `ssrf_${Math.random().toString(36).slice(2, 10)}`,
        base_url: `https://${host}:${loopback.port}`,
        endpoint_path: '/secret',
      });
      const reply = await harness.execute(tool, {});
      expect(reply).toMatchObject({
        status: 'rejected',
        attempts: 1,
        error: {
          code: 'EXECUTOR_EGRESS_DENIED',
          status: 403,
          excerpt: expect.stringContaining(reason) as unknown,
        },
      });
      expect(watch.connected).toEqual([]);
      expect(watch.refused.map((entry) => entry.code)).toEqual(['ETENGINE_EGRESS_DENIED']);
      expect(loopback.connections).toBe(0);
    } finally {
      watch.stop();
    }
  });

  it.each([
    ['169.254.169.254', 'metadata'],
    ['[fd00:ec2::254]', 'metadata'],
    ['10.0.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['[fe80::1]', 'link-local'],
    ['[64:ff9b::a9fe:a9fe]', 'metadata'],
    ['0.0.0.0', 'unspecified'],
  ])('should block %s on port 443 without connecting', async (host, reason) => {
    const watch = watchConnections();
    try {
      const tool = await harness.createTool({
        name: `ssrf_${Math.random().toString(36).slice(2, 10)}`,
        base_url: `https://${host}`,
        endpoint_path: '/latest/meta-data/',
      });
      const reply = await harness.execute(tool, {});
      expect(reply.error).toMatchObject({
        code: 'EXECUTOR_EGRESS_DENIED',
        excerpt: expect.stringContaining(reason) as unknown,
      });
      expect(watch.connected).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('should refuse a port other than 443 on a public address that is not allowlisted', async () => {
    const tool = await harness.createTool({
      name: 'odd_port',
      base_url: 'https://93.184.216.34:8443',
      endpoint_path: '/',
    });
    const watch = watchConnections();
    try {
      const reply = await harness.execute(tool, {});
      expect(reply.error).toMatchObject({
        code: 'EXECUTOR_EGRESS_DENIED',
        excerpt: expect.stringContaining('port 8443') as unknown,
      });
      expect(watch.connected).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('should not follow a redirect to the metadata service', async () => {
    allowed.handler = (_request, response) => {
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam' });
      response.end();
    };
    const tool = await harness.createTool({
      name: 'redirecting',
      base_url: allowed.url(),
      endpoint_path: '/start',
    });
    const watch = watchConnections();
    try {
      const reply = await harness.execute(tool, {});
      expect(reply).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: {
          code: 'EXECUTOR_UPSTREAM_REDIRECT',
          status: 502,
          upstreamStatus: 302,
          excerpt: expect.stringContaining('not followed') as unknown,
        },
      });
      expect(allowed.requests.map((request) => request.url)).toEqual(['/start']);
      const targets = [...watch.connected, ...watch.refused.map((entry) => entry.params)];
      expect(targets.filter((params) => params.hostname.startsWith('169.254'))).toEqual([]);
    } finally {
      watch.stop();
    }
    expect(executor.name).toBe('executor');
  });
});
