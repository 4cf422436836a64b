import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import ipaddr from 'ipaddr.js';

import {
  EgressPolicy,
  parseEgressAllowlist,
} from '../../apps/executor/src/egress/egress-policy.js';
import { UpstreamClient } from '../../apps/executor/src/upstream/upstream-client.js';
import { AttackGuard } from './support/guard.js';
import { expectToolRefusal, mcp, toolCall } from './support/mcp.js';
import {
  createTenant,
  startAttackPlatform,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

const EGRESS_DENIED = {
  code: 'EXECUTOR_EGRESS_DENIED',
  status: 403,
  runStatus: 'rejected',
  text: '403 Forbidden: Upstream address not allowed by the egress policy',
};
const PUBLIC_ADDRESS = '93.184.216.34';

/** Host names this machine resolves (through /etc/hosts) to loopback or private addresses. */
function privateHostsFileNames(): string[] {
  let text = '';
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !ipaddr.isValid(address)) continue;
    const range = ipaddr.process(address).range();
    if (!['loopback', 'private', 'uniqueLocal', 'linkLocal'].includes(range)) continue;
    for (const alias of aliases) {
      if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(alias) && alias.toLowerCase() !== 'localhost') {
        names.add(alias.toLowerCase());
      }
    }
  }
  return [...names];
}

describe('SSRF through tool definitions (loopback and private ranges not allowlisted)', () => {
  let platform: AttackPlatform;
  /** Stands for every internal service: listens on all local addresses, IPv4 and IPv6. */
  let internal: RecordingUpstream;
  /** An allowlisted API (127.0.0.2) that answers with redirects to internal addresses. */
  let redirector: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let serial = 0;

  beforeAll(async () => {
    internal = await startRecordingUpstream({ host: '::' });
    redirector = await startRecordingUpstream({ host: '127.0.0.2' });
    platform = await startAttackPlatform({
      // The internal port is opened as a port, not as an address: only the address rules stop it.
      TENGINE_EGRESS_ALLOW: `127.0.0.2/32 :${internal.port}`,
      // The registry lets these hosts use http://, so the egress policy alone is tested.
      TENGINE_ALLOW_HTTP_HOSTS: `127.0.0.2,127.0.0.1,localhost,::1,${PUBLIC_ADDRESS}`,
    });
    guard = new AttackGuard(platform, [internal, redirector]);
    alice = await createTenant(platform);
    platform.secrets.add(alice.apiKey);
    // Control: the allowlisted API is reachable.
    const control = await attempt(redirector.origin, '/ok');
    if (control.status !== 200 || redirector.requests.length !== 1) {
      throw new Error(`control call failed: ${control.text}`);
    }
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await internal?.close();
    await redirector?.close();
  });

  beforeEach(() => guard.begin());

  /** Registers a tool (as a tools:write attacker would); the answer of the registry. */
  function register(overrides: Record<string, unknown>) {
    serial += 1;
    return platform.call('POST', '/api/v1/custom-tools', {
      token: alice.apiKey,
      body: {
        name: `ssrf_${serial}`,
        description: 'ssrf',
        method: 'GET',
        endpoint_path: '/latest/meta-data/',
        input_schema: { type: 'object', properties: {} },
        ...overrides,
      },
    });
  }

  /** Registers a tool at `baseUrl` and calls it over MCP. */
  async function attempt(baseUrl: string, path = '/latest/meta-data/', extra = {}) {
    const created = await register({ base_url: baseUrl, endpoint_path: path, ...extra });
    if (created.status !== 201) throw new Error(`tool at ${baseUrl}: ${created.text}`);
    return mcp(platform, { token: alice.apiKey, body: toolCall(String(created.body['name'])) });
  }

  const p = (): number => internal.port;
  const denied: Array<[string, () => string, RegExp]> = [
    // Cloud metadata, in every notation.
    ['169.254.169.254', () => 'https://169.254.169.254', /169\.254\.169\.254 \(metadata\)/],
    ['fd00:ec2::254', () => 'https://[fd00:ec2::254]', /\(metadata\)/],
    ['169.254.170.2 (ECS task metadata)', () => 'https://169.254.170.2', /\(metadata\)/],
    ['100.100.100.200 (Alibaba metadata)', () => 'https://100.100.100.200', /\(metadata\)/],
    [
      'metadata as decimal 2852039166',
      () => 'https://2852039166',
      /169\.254\.169\.254 \(metadata\)/,
    ],
    ['metadata as hex 0xa9fea9fe', () => 'https://0xa9fea9fe', /169\.254\.169\.254 \(metadata\)/],
    ['metadata as octal 0251.0376.0251.0376', () => 'https://0251.0376.0251.0376', /\(metadata\)/],
    [
      'metadata IPv4-mapped [::ffff:169.254.169.254]',
      () => 'https://[::ffff:169.254.169.254]',
      /\(metadata\)/,
    ],
    [
      'metadata via NAT64 [64:ff9b::a9fe:a9fe]',
      () => 'https://[64:ff9b::a9fe:a9fe]',
      /\(metadata\)/,
    ],
    [
      'metadata IPv4-compatible [::169.254.169.254]',
      () => 'https://[::169.254.169.254]',
      /\((metadata|reserved)\)/,
    ],
    // Loopback, in every notation, on the internal service's port.
    ['127.0.0.1', () => `https://127.0.0.1:${p()}`, /\(loopback\)/],
    ['127.0.0.1 over plain http', () => `http://127.0.0.1:${p()}`, /\(loopback\)/],
    ['decimal 2130706433', () => `https://2130706433:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['octal 0177.0.0.1', () => `https://0177.0.0.1:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['hex 0x7f000001', () => `https://0x7f000001:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['dotted hex 0x7f.0.0.1', () => `https://0x7f.0.0.1:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['short 127.1', () => `https://127.1:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['short 127.0.1', () => `https://127.0.1:${p()}`, /127\.0\.0\.1 \(loopback\)/],
    ['127.255.255.254', () => `https://127.255.255.254:${p()}`, /\(loopback\)/],
    ['IPv6 [::1]', () => `https://[::1]:${p()}`, /\(loopback\)/],
    ['IPv6 [::1] over plain http', () => `http://[::1]:${p()}`, /\(loopback\)/],
    ['IPv4-mapped [::ffff:127.0.0.1]', () => `https://[::ffff:127.0.0.1]:${p()}`, /\(loopback\)/],
    [
      'IPv4-mapped [0:0:0:0:0:ffff:7f00:1]',
      () => `https://[0:0:0:0:0:ffff:7f00:1]:${p()}`,
      /\(loopback\)/,
    ],
    ['SIIT [::ffff:0:7f00:1]', () => `https://[::ffff:0:7f00:1]:${p()}`, /\(loopback\)/],
    ['NAT64 [64:ff9b::7f00:1]', () => `https://[64:ff9b::7f00:1]:${p()}`, /\(loopback\)/],
    ['6to4 [2002:7f00:1::]', () => `https://[2002:7f00:1::]:${p()}`, /\(loopback\)/],
    [
      'IPv4-compatible [::127.0.0.1]',
      () => `https://[::127.0.0.1]:${p()}`,
      /\((loopback|reserved)\)/,
    ],
    ['0.0.0.0 (this host)', () => `https://0.0.0.0:${p()}`, /\(unspecified\)/],
    ['0 (this host, short)', () => `https://0:${p()}`, /0\.0\.0\.0 \(unspecified\)/],
    ['[::] (this host, IPv6)', () => `https://[::]:${p()}`, /\(unspecified\)/],
    // Private and special ranges.
    ['10.0.0.1', () => 'https://10.0.0.1', /\(private\)/],
    ['172.16.0.1', () => 'https://172.16.0.1', /\(private\)/],
    ['192.168.1.1', () => 'https://192.168.1.1', /\(private\)/],
    ['100.64.0.1 (CGNAT)', () => 'https://100.64.0.1', /\(carrier-grade-nat\)/],
    ['169.254.1.1 (link-local)', () => 'https://169.254.1.1', /\(link-local\)/],
    ['[fc00::1] (unique-local)', () => 'https://[fc00::1]', /\(unique-local\)/],
    ['[fe80::1] (link-local)', () => 'https://[fe80::1]', /\(link-local\)/],
    ['224.0.0.1 (multicast)', () => 'https://224.0.0.1', /\(multicast\)/],
    ['255.255.255.255 (broadcast)', () => 'https://255.255.255.255', /\(broadcast\)/],
    ['198.18.0.1 (benchmarking)', () => 'https://198.18.0.1', /\(reserved\)/],
    ['[2001:db8::1] (documentation)', () => 'https://[2001:db8::1]', /\(reserved\)/],
    ['[64:ff9b:1::a00:1] (local-use NAT64)', () => 'https://[64:ff9b:1::a00:1]', /\(translated\)/],
    // Names that resolve to internal addresses.
    ['localhost', () => `https://localhost:${p()}`, /localhost resolves to .* \(loopback\)/],
    ['LOCALHOST', () => `https://LOCALHOST:${p()}`, /localhost resolves to .* \(loopback\)/],
    [
      'localhost over plain http',
      () => `http://localhost:${p()}`,
      /localhost resolves to .* \(loopback\)/,
    ],
    ...privateHostsFileNames().map((name): [string, () => string, RegExp] => [
      `${name} (from /etc/hosts)`,
      () => `https://${name}:${p()}`,
      new RegExp(
        `${name.replace(/\./g, '\\.')} resolves to .* \\((loopback|private|link-local|unique-local)\\)`,
      ),
    ]),
    // Ports other than 443 on a public address (refused before any connection).
    [
      'port 8443',
      () => `https://${PUBLIC_ADDRESS}:8443`,
      /port 8443 of 93\.184\.216\.34 \(only 443 unless allowlisted\)/,
    ],
    ['port 22 (SSH)', () => `https://${PUBLIC_ADDRESS}:22`, /port 22 of/],
    ['port 25 (SMTP)', () => `https://${PUBLIC_ADDRESS}:25`, /port 25 of/],
    ['port 6379 (Redis)', () => `https://${PUBLIC_ADDRESS}:6379`, /port 6379 of/],
    ['port 11211 (memcached)', () => `https://${PUBLIC_ADDRESS}:11211`, /port 11211 of/],
    ['plain http on port 80', () => `http://${PUBLIC_ADDRESS}`, /plain http to 93\.184\.216\.34/],
  ];

  it.each(denied)(
    'should refuse a tool pointing at %s before connecting',
    async (_name, baseUrl, reason) => {
      const answer = await attempt(baseUrl());
      const result = expectToolRefusal(answer, EGRESS_DENIED);
      expect(result.content[0]!.text).toMatch(reason);
      await guard.end([answer.text]);
    },
  );

  it('should refuse a tool pointing at localhost. (trailing dot) before connecting', async () => {
    // Whether the system resolver knows the fully qualified "localhost." varies; either way the
    // call must end before any connection: judged loopback, or not found at all.
    const resolves = await lookup('localhost.').then(
      () => true,
      () => false,
    );
    const answer = await attempt(`https://localhost.:${p()}`);
    if (resolves) {
      const result = expectToolRefusal(answer, EGRESS_DENIED);
      expect(result.content[0]!.text).toMatch(/resolves to .* \(loopback\)/);
    } else {
      expectToolRefusal(answer, {
        code: 'EXECUTOR_UPSTREAM_CONNECTION_ERROR',
        status: 502,
        text: '502 Bad Gateway: Upstream tool call failed — connection error',
      });
    }
    await guard.end([answer.text]);
  });

  it.each([
    ['302 to the internal service', 302, () => `http://127.0.0.1:${p()}/admin`],
    ['301 to the metadata service', 301, () => 'http://169.254.169.254/latest/meta-data/iam'],
    ['307 to IPv6 loopback', 307, () => `http://[::1]:${p()}/admin`],
    ['308 to file:///etc/passwd', 308, () => 'file:///etc/passwd'],
    ['303 to a scheme-relative internal URL', 303, () => `//127.0.0.1:${p()}/admin`],
  ])('should not follow a redirect: %s', async (_name, status, target) => {
    const answer = await attempt(redirector.origin, '/redirect', {
      query_template: { status: String(status), to: target() },
    });
    const result = expectToolRefusal(answer, {
      code: 'EXECUTOR_UPSTREAM_REDIRECT',
      status: 502,
      runStatus: 'failed',
      text: '502 Bad Gateway: Upstream tool call failed — non-2xx response',
    });
    expect(result.content[0]!.text).toContain(`your API answered ${status}`);
    // The allowlisted API answered once; nothing followed the redirect anywhere.
    await guard.end([answer.text], [{ upstream: redirector, requests: 1 }]);
  });

  it.each([
    ['file:///etc/passwd'],
    ['gopher://127.0.0.1:70/_GET%20/'],
    ['ftp://127.0.0.1/'],
    ['data:text/plain,hello'],
    ['javascript:alert(1)'],
    ['dict://127.0.0.1:11211/stats'],
    ['ws://127.0.0.1/'],
    ['ldap://127.0.0.1/'],
  ])('should refuse registering a tool with the non-HTTP base_url %s', async (baseUrl) => {
    const answer = await register({ base_url: baseUrl });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: 400,
      detail: 'base_url must use HTTPS',
    });
    await guard.end([answer.text]);
  });

  it('should refuse switching an existing tool to gopher:// with PATCH', async () => {
    const created = await register({ base_url: redirector.origin });
    expect(created.status).toBe(201);
    const answer = await platform.call(
      'PATCH',
      `/api/v1/custom-tools/${String(created.body['id'])}`,
      {
        token: alice.apiKey,
        body: { base_url: 'gopher://127.0.0.1:6379/_FLUSHALL' },
      },
    );
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: 400,
      detail: 'base_url must use HTTPS',
    });
    await guard.end([answer.text]);
  });

  it('should refuse an OpenAPI import onto a file: base_url', async () => {
    const answer = await platform.call('POST', '/api/v1/custom-tools/import', {
      token: alice.apiKey,
      body: {
        document: JSON.stringify({
          openapi: '3.1.0',
          info: { title: 'x', version: '1' },
          paths: { '/a': { get: { operationId: 'a', responses: { 200: { description: 'ok' } } } } },
        }),
        base_url: 'file:///etc',
      },
    });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: 400,
      detail: 'base_url must use HTTPS',
    });
    await guard.end([answer.text]);
  });

  it.each([
    ['https://allowed.example@127.0.0.1', 400, 'base_url must not contain credentials (userinfo)'],
    ['https://user:pass@169.254.169.254', 400, 'base_url must not contain credentials (userinfo)'],
    [
      'https://api.example.com:443@127.0.0.1',
      400,
      'base_url must not contain credentials (userinfo)',
    ],
    ['https://@127.0.0.1', 400, 'base_url must not contain credentials (userinfo)'],
    [
      'https://api.example.com\\@127.0.0.1',
      400,
      'base_url must not contain credentials (userinfo)',
    ],
    [
      'https://127.0.0.1#@api.example.com',
      400,
      'base_url must be origin-only (no query or fragment)',
    ],
    [
      'https://127.0.0.1?@api.example.com',
      400,
      'base_url must be origin-only (no query or fragment)',
    ],
  ])('should refuse the userinfo trick %s', async (baseUrl, status, detail) => {
    const answer = await register({ base_url: baseUrl });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({ status, detail });
    await guard.end([answer.text]);
  });

  it('should refuse an encoded @ in the host as an invalid URL', async () => {
    const answer = await register({ base_url: 'https://api.example.com%40127.0.0.1' });
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: 422,
      detail: [{ path: 'base_url', message: 'must be a valid URL' }],
    });
    await guard.end([answer.text]);
  });
});

/**
 * DNS rebinding, at the executor's egress module: the executor resolves the name once per
 * connection, judges every address, and connects to the address it judged (never to the name), so
 * a resolver that changes its answer after the check cannot steer the socket.
 */
describe('SSRF by DNS rebinding (executor egress module with a hostile resolver)', () => {
  let benign: Server;
  let internal: Server;
  let port = 0;
  const hits = { benign: 0, internal: 0 };
  let answers: string[][] = [];
  let lookups = 0;
  let client: UpstreamClient;

  const listen = (server: Server, host: string, onPort: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, host, () => resolve());
    });

  beforeAll(async () => {
    benign = createServer((_request, response) => {
      hits.benign += 1;
      response.writeHead(200, { connection: 'close', 'content-type': 'text/plain' }).end('benign');
    });
    internal = createServer((_request, response) => {
      hits.internal += 1;
      response.writeHead(200).end('internal secrets');
    });
    internal.on('connection', () => (hits.internal += 1));
    await listen(benign, '127.0.0.2', 0);
    port = (benign.address() as AddressInfo).port;
    // The same port on loopback: where a rebound name would lead.
    await listen(internal, '127.0.0.1', port);
    const policy = new EgressPolicy(parseEgressAllowlist('127.0.0.2/32'), (hostname) => {
      lookups += 1;
      expect(hostname).toBe('rebind.attacker.example');
      return Promise.resolve((answers.shift() ?? ['127.0.0.1']).map((address) => ({ address })));
    });
    client = new UpstreamClient(policy, { connectTimeoutMs: 2_000, maxResponseBytes: 1 << 20 });
  });

  afterAll(async () => {
    await client?.close();
    await new Promise((resolve) => benign?.close(resolve));
    await new Promise((resolve) => internal?.close(resolve));
  });

  beforeEach(() => {
    hits.benign = 0;
    hits.internal = 0;
    lookups = 0;
  });

  const send = () =>
    client.send(
      {
        origin: `http://rebind.attacker.example:${port}`,
        target: '/latest/meta-data/',
        method: 'GET',
        headers: {},
        body: null,
      },
      3_000,
    );

  it('should connect to the address it checked even when the name rebinds right after', async () => {
    // Allowed on the check; any later lookup would answer loopback.
    answers = [['127.0.0.2'], ['127.0.0.1'], ['127.0.0.1']];
    const outcome = await send();
    expect(outcome.kind).toBe('response');
    expect(outcome.kind === 'response' ? outcome.body.toString('utf8') : '').toBe('benign');
    expect({ lookups, ...hits }).toEqual({ lookups: 1, benign: 1, internal: 0 });
  });

  it('should refuse the next connection once the name has rebound to loopback', async () => {
    answers = [['127.0.0.1']];
    const outcome = await send();
    expect(outcome).toMatchObject({ kind: 'error', sent: false });
    expect(outcome.kind === 'error' ? (outcome.error as { code?: string }).code : '').toBe(
      'ETENGINE_EGRESS_DENIED',
    );
    expect(outcome.kind === 'error' ? outcome.error.message : '').toBe(
      'Egress denied: rebind.attacker.example resolves to 127.0.0.1 (loopback)',
    );
    expect({ lookups, ...hits }).toEqual({ lookups: 1, benign: 0, internal: 0 });
  });

  it('should refuse a name answering both an allowed and a loopback address', async () => {
    answers = [['127.0.0.2', '127.0.0.1']];
    const outcome = await send();
    expect(outcome.kind === 'error' ? outcome.error.message : outcome.kind).toBe(
      'Egress denied: rebind.attacker.example resolves to 127.0.0.1 (loopback)',
    );
    expect(hits).toEqual({ benign: 0, internal: 0 });
  });
});
