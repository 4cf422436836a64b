import { classifyAddress, parseHostAddress, parseResolvedAddress } from './address-classifier.js';
import {
  EgressDeniedError,
  EgressPolicy,
  EMPTY_ALLOWLIST,
  parseEgressAllowlist,
  type HostResolver,
} from './egress-policy.js';

/** A resolver that answers from a table and fails the test on any other name. */
function fakeResolver(table: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address })));
  };
  return Object.assign(resolver, { calls });
}

function classOf(host: string): string {
  const address = parseHostAddress(host);
  if (!address) throw new Error(`${host} did not parse as an address`);
  return classifyAddress(address);
}

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['127.0.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0x7F.0.0.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['017700000001', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['0xa.0.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['0xa9fea9fe', 'metadata'],
    ['2852039166', 'metadata'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::1', 'translated'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnelled'],
    ['2001:db8::1', 'reserved'],
  ])('should classify %s as %s', (host, expected) => {
    expect(classOf(host)).toBe(expected);
  });

  it.each([
    ['93.184.216.34'],
    ['8.8.8.8'],
    ['2606:4700:4700::1111'],
    ['::ffff:93.184.216.34'],
    ['64:ff9b::5db8:d822'],
    ['2002:5db8:d822::1'],
  ])('should classify %s as public', (host) => {
    expect(classOf(host)).toBe('public');
  });

  it('should not mistake host names for addresses', () => {
    expect(parseHostAddress('api.example.com')).toBeUndefined();
    expect(parseHostAddress('localhost')).toBeUndefined();
    expect(parseHostAddress('1.2.3.4.example.com')).toBeUndefined();
    expect(parseResolvedAddress('fe80::1%eth0')?.toString()).toBe('fe80::1');
  });
});

describe(parseEgressAllowlist.name, () => {
  it('should read ranges, addresses, hosts and ports', () => {
    const allowlist = parseEgressAllowlist(
      '10.0.0.0/8, 127.0.0.1 ::1 api.internal,*.corp.example :8443',
    );
    expect(allowlist.ranges.map(([address, bits]) => `${address.toString()}/${bits}`)).toEqual([
      '10.0.0.0/8',
      '127.0.0.1/32',
      '::1/128',
    ]);
    expect(allowlist.hosts).toEqual(['api.internal', '*.corp.example']);
    expect([...allowlist.ports]).toEqual([8443]);
    expect(parseEgressAllowlist(undefined)).toEqual(EMPTY_ALLOWLIST);
  });

  it('should name an entry it cannot read', () => {
    expect(() => parseEgressAllowlist('10.0.0.0/99')).toThrow(/"10.0.0.0\/99" is not a CIDR/);
    expect(() => parseEgressAllowlist('http://x')).toThrow(/"http:\/\/x"/);
    expect(() => parseEgressAllowlist(':70000')).toThrow(/port/);
    // Odd notations are not accepted in the allowlist itself: it must say exactly what it opens.
    expect(() => parseEgressAllowlist('0x7f000001')).toThrow(/0x7f000001/);
  });
});

describe(EgressPolicy.name, () => {
  const https = (hostname: string, port = 443) => ({ protocol: 'https:', hostname, port });

  it('should connect a public name to the checked address, resolving once', async () => {
    const resolver = fakeResolver({ 'api.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    const policy = new EgressPolicy(EMPTY_ALLOWLIST, resolver);
    await expect(policy.check(https('api.example.com'))).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    expect(resolver.calls).toEqual(['api.example.com']);
  });

  it.each([
    'https://127.0.0.1/',
    'https://127.1/',
    'https://0x7f000001/',
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://169.254.169.254/',
    'https://[fd00:ec2::254]/',
    'https://10.0.0.1/',
    'https://100.64.0.1/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://[2002:a9fe:a9fe::1]/',
    'https://0.0.0.0/',
  ])('should deny %s without any DNS lookup', async (url) => {
    const resolver = fakeResolver({});
    const policy = new EgressPolicy(EMPTY_ALLOWLIST, resolver);
    const { hostname } = new URL(url);
    await expect(policy.check(https(hostname))).rejects.toBeInstanceOf(EgressDeniedError);
    expect(resolver.calls).toEqual([]);
  });

  it('should deny a name resolving to loopback, and a rebinding answer mixing in a private address', async () => {
    const policy = new EgressPolicy(
      EMPTY_ALLOWLIST,
      fakeResolver({
        localhost: ['127.0.0.1', '::1'],
        'rebind.example': ['93.184.216.34', '10.0.0.5'],
        'metadata.example': ['169.254.169.254'],
      }),
    );
    await expect(policy.check(https('localhost'))).rejects.toThrow(
      /localhost resolves to 127.0.0.1 \(loopback\)/,
    );
    await expect(policy.check(https('rebind.example'))).rejects.toThrow(/10.0.0.5 \(private\)/);
    await expect(policy.check(https('metadata.example'))).rejects.toThrow(/metadata/);
  });

  it('should allow only port 443 and HTTPS to public destinations unless allowlisted', async () => {
    const resolver = fakeResolver({ 'api.example.com': ['93.184.216.34'] });
    const strict = new EgressPolicy(EMPTY_ALLOWLIST, resolver);
    await expect(strict.check(https('api.example.com', 8443))).rejects.toThrow(/port 8443/);
    await expect(
      strict.check({ protocol: 'http:', hostname: 'api.example.com', port: 80 }),
    ).rejects.toThrow(/plain http/);
    const withPort = new EgressPolicy(parseEgressAllowlist(':8443'), resolver);
    await expect(withPort.check(https('api.example.com', 8443))).resolves.toMatchObject({
      address: '93.184.216.34',
    });
  });

  it('should open loopback deliberately through a range or a host entry, on any port and over http', async () => {
    const resolver = fakeResolver({ localhost: ['127.0.0.1'], 'api.internal': ['10.1.2.3'] });
    const byRange = new EgressPolicy(parseEgressAllowlist('127.0.0.0/8'), resolver);
    await expect(
      byRange.check({ protocol: 'http:', hostname: '127.0.0.1', port: 8080 }),
    ).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(byRange.check(https('localhost', 9443))).resolves.toEqual({
      address: '127.0.0.1',
      family: 4,
    });
    const byHost = new EgressPolicy(parseEgressAllowlist('api.internal'), resolver);
    await expect(byHost.check(https('api.internal', 8443))).resolves.toMatchObject({
      address: '10.1.2.3',
    });
    // A host entry opens that name only, not the range behind it.
    await expect(byHost.check(https('10.1.2.3'))).rejects.toThrow(/private/);
  });

  it('should keep metadata addresses closed unless an entry names them exactly', async () => {
    const wide = new EgressPolicy(parseEgressAllowlist('169.254.0.0/16'), fakeResolver({}));
    await expect(wide.check(https('169.254.169.254'))).rejects.toThrow(/metadata/);
    await expect(wide.check(https('169.254.1.1'))).resolves.toMatchObject({
      address: '169.254.1.1',
    });
    const exact = new EgressPolicy(parseEgressAllowlist('169.254.169.254'), fakeResolver({}));
    await expect(exact.check(https('169.254.169.254'))).resolves.toMatchObject({
      address: '169.254.169.254',
    });
  });

  it('should match IPv4-mapped answers against IPv4 ranges', async () => {
    const policy = new EgressPolicy(
      parseEgressAllowlist('127.0.0.1'),
      fakeResolver({ 'mapped.test': ['::ffff:127.0.0.1'] }),
    );
    await expect(policy.check(https('mapped.test', 8080))).resolves.toMatchObject({ family: 6 });
  });
});
