import ipaddr from 'ipaddr.js';

/** An IP address as ipaddr.js parses it. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Why an address is not a public unicast destination. `public` is the only class tools may reach
 * without an allowlist entry.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'broadcast'
  | 'multicast'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'unique-local'
  | 'reserved'
  | 'metadata'
  | 'translated'
  | 'tunnelled';

/**
 * Cloud instance-metadata endpoints. Most already fall in a denied range (link-local, ULA, CGNAT);
 * they are named so that an allowlist opening a whole range does not open them by accident.
 */
const METADATA_ADDRESSES = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean…
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS IPv6
].map((text) => ipaddr.parse(text));

/** True for a cloud metadata address (compared after unwrapping IPv4-in-IPv6 forms). */
export function isMetadataAddress(address: IpAddress): boolean {
  const unwrapped = embeddedIPv4(address) ?? address;
  return METADATA_ADDRESSES.some(
    (metadata) =>
      metadata.kind() === unwrapped.kind() &&
      metadata.toNormalizedString() === unwrapped.toNormalizedString(),
  );
}

const IPV4_CLASSES: Readonly<Record<ReturnType<ipaddr.IPv4['range']>, AddressClass>> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
  reserved: 'reserved',
  benchmarking: 'reserved',
  amt: 'reserved',
  as112: 'reserved',
};

/**
 * The IPv4 address an IPv6 form carries, for the forms that a host or a translator turns back into
 * an IPv4 connection: IPv4-mapped (`::ffff:a.b.c.d`), SIIT (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`)
 * and 6to4 (`2002:AABB:CCDD::/48`). Judging the embedded address is what stops `[::ffff:127.0.0.1]`
 * or `[64:ff9b::a9fe:a9fe]` from reaching loopback or the metadata service.
 */
export function embeddedIPv4(address: IpAddress): ipaddr.IPv4 | undefined {
  if (address.kind() !== 'ipv6') return undefined;
  const v6 = address as ipaddr.IPv6;
  const parts = v6.parts;
  const fromWords = (high: number, low: number): ipaddr.IPv4 =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return fromWords(parts[6] ?? 0, parts[7] ?? 0);
  // 64:ff9b::/96 carries the address in the last 32 bits; 64:ff9b:1::/48 is local-use NAT64,
  // whose layout is operator-defined, so it is judged as a whole (denied) instead.
  if (range === 'rfc6052')
    return parts[2] === 0 ? fromWords(parts[6] ?? 0, parts[7] ?? 0) : undefined;
  if (range === '6to4') return fromWords(parts[1] ?? 0, parts[2] ?? 0);
  return undefined;
}

/** The only IPv6 space allocated as global unicast (RFC 4291, IANA). */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

function classifyIPv6(address: ipaddr.IPv6): AddressClass {
  switch (address.range()) {
    case 'unicast':
      // ipaddr.js calls everything it has no name for unicast, including ::/8 (where ::a.b.c.d, the
      // deprecated IPv4-compatible form of any IPv4 address, lives) and unallocated space.
      return address.match(GLOBAL_UNICAST) ? 'public' : 'reserved';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
      return 'multicast';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local';
    case 'uniqueLocal':
      return 'unique-local';
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
    case '6to4':
      return 'translated';
    case 'teredo':
      // A Teredo address tunnels to an obfuscated IPv4 endpoint: never a plain public destination.
      return 'tunnelled';
    case 'reserved':
    case 'benchmarking':
    case 'amt':
    case 'as112v6':
    case 'orchid2':
    case 'droneRemoteIdProtocolEntityTags':
      return 'reserved';
  }
}

/**
 * Classifies a parsed address. IPv6 forms that embed an IPv4 address are judged by that address
 * (so NAT64 of a public address stays usable on IPv6-only networks, while `::ffff:127.0.0.1` is
 * loopback); every other special-purpose range is denied.
 */
export function classifyAddress(address: IpAddress): AddressClass {
  if (isMetadataAddress(address)) return 'metadata';
  const embedded = embeddedIPv4(address);
  if (embedded) {
    const inner = IPV4_CLASSES[embedded.range()];
    return inner === 'public' ? 'public' : inner;
  }
  // 0.0.0.0/8 ("this network") is `unspecified`: on Linux a connection to it reaches the host itself.
  if (address.kind() === 'ipv4') return IPV4_CLASSES[(address as ipaddr.IPv4).range()];
  return classifyIPv6(address as ipaddr.IPv6);
}

/**
 * Parses a host as it appears in a URL, in any notation a resolver would accept: the WHATWG URL
 * parser first canonicalises IPv4 shorthand (`127.1`), hex (`0x7f000001`), octal (`0177.0.0.1`) and
 * integer (`2130706433`) forms and bracketed IPv6, so the text judged is the address the socket
 * would use. Returns undefined for a host name (to be resolved and judged address by address).
 */
export function parseHostAddress(host: string): IpAddress | undefined {
  let canonical: string;
  try {
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    canonical = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return undefined;
  }
  const bare = canonical.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return undefined;
  // Only the canonical dotted-quad or IPv6 text reaches this point (the URL parser rewrote the rest).
  if (!bare.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return undefined;
  return ipaddr.parse(bare);
}

/** Parses a literal address as a resolver returns it (`93.184.216.34`, `2606:2800::1`). */
export function parseResolvedAddress(text: string): IpAddress | undefined {
  const bare = text.replace(/%.*$/, '');
  return ipaddr.isValid(bare) ? ipaddr.parse(bare) : undefined;
}
