import { lookup } from 'node:dns/promises';

import ipaddr from 'ipaddr.js';

import {
  classifyAddress,
  isMetadataAddress,
  parseHostAddress,
  parseResolvedAddress,
  type AddressClass,
  type IpAddress,
} from './address-classifier.js';

/**
 * Destinations an operator opened on purpose (`TENGINE_EGRESS_ALLOW`): address ranges and host
 * names that may be private, and extra ports for public destinations.
 */
export interface EgressAllowlist {
  /** CIDR ranges whose addresses may be reached on any port, even when private. */
  readonly ranges: ReadonlyArray<readonly [IpAddress, number]>;
  /** Host names (`api.internal`) or suffix patterns (`*.corp.example`) reachable on any port. */
  readonly hosts: readonly string[];
  /** Ports allowed for public destinations besides 443. */
  readonly ports: ReadonlySet<number>;
}

/** An allowlist that opens nothing. */
export const EMPTY_ALLOWLIST: EgressAllowlist = { ranges: [], hosts: [], ports: new Set() };

const HOST_ENTRY =
  /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A host whose last label is numeric is an IPv4 address in some notation (WHATWG URL rules). */
const ENDS_IN_NUMBER = /(^|\.)(0x[0-9a-f]*|\d+)\.?$/;

/**
 * Parses `TENGINE_EGRESS_ALLOW`: entries separated by commas or spaces, each one of
 * - a CIDR range or single address: `10.0.0.0/8`, `127.0.0.1`, `fd00::/8`, `::1`;
 * - a host name or suffix pattern: `api.internal`, `*.corp.example`;
 * - a port for public destinations: `:8443`.
 * Throws an error naming the first entry it cannot read.
 */
export function parseEgressAllowlist(text: string | undefined): EgressAllowlist {
  const ranges: Array<readonly [IpAddress, number]> = [];
  const hosts: string[] = [];
  const ports = new Set<number>();
  for (const entry of (text ?? '').split(/[\s,]+/).filter((part) => part !== '')) {
    const lower = entry.toLowerCase();
    if (/^:\d{1,5}$/.test(lower)) {
      const port = Number(lower.slice(1));
      if (port < 1 || port > 65_535) throw new Error(`"${entry}" is not a port (1-65535)`);
      ports.add(port);
    } else if (lower.includes('/')) {
      if (!ipaddr.isValidCIDR(lower)) throw new Error(`"${entry}" is not a CIDR range`);
      ranges.push(ipaddr.parseCIDR(lower));
    } else if (ipaddr.IPv4.isValidFourPartDecimal(lower) || ipaddr.IPv6.isValid(lower)) {
      const address = ipaddr.parse(lower);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (HOST_ENTRY.test(lower) && !ENDS_IN_NUMBER.test(lower)) {
      hosts.push(lower);
    } else {
      throw new Error(
        `"${entry}" is neither a CIDR range, an address, a host name nor a :port entry`,
      );
    }
  }
  return { ranges, hosts, ports };
}

/** A refusal by the egress policy; the connection is never opened. */
export class EgressDeniedError extends Error {
  /** Lets the upstream client tell a policy refusal from a network error without `instanceof`. */
  readonly code = 'ETENGINE_EGRESS_DENIED';

  constructor(readonly reason: string) {
    super(`Egress denied: ${reason}`);
    this.name = 'EgressDeniedError';
  }
}

/** Where a request wants to go, as undici's connector sees it. */
export interface Destination {
  readonly protocol: string;
  /** Host name or address (IPv6 with or without brackets). */
  readonly hostname: string;
  readonly port: number;
}

/** A checked address to connect to. */
export interface CheckedTarget {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (all families). */
export type HostResolver = (hostname: string) => Promise<ReadonlyArray<{ address: string }>>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), all addresses, in resolver order. */
export const systemResolver: HostResolver = (hostname) =>
  lookup(hostname, { all: true, verbatim: true });

function sameAddress(left: IpAddress, right: IpAddress): boolean {
  return left.kind() === right.kind() && left.toNormalizedString() === right.toNormalizedString();
}

/**
 * The SSRF policy, applied when a connection is about to be opened: resolve the host, judge every
 * address, and hand back one checked address to connect to, so a DNS answer that changes between
 * check and use (rebinding) cannot redirect the socket.
 *
 * A destination is reachable when every resolved address is public unicast, or is opened by the
 * allowlist (a range containing it, or a host entry matching the name). Plain `http:` and ports
 * other than 443 need an opened destination (or, for ports, a `:port` entry). Cloud metadata
 * addresses are opened only by an entry naming exactly that address.
 */
export class EgressPolicy {
  constructor(
    private readonly allowlist: EgressAllowlist,
    private readonly resolver: HostResolver = systemResolver,
  ) {}

  /** Resolves and checks a destination; throws {@link EgressDeniedError} or the resolver's error. */
  async check(destination: Destination): Promise<CheckedTarget> {
    const hostname = destination.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const literal = parseHostAddress(hostname);
    const addresses = literal
      ? [literal]
      : (await this.resolver(hostname))
          .map((entry) => parseResolvedAddress(entry.address))
          .filter((address): address is IpAddress => address !== undefined);
    if (addresses.length === 0) {
      throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
    }
    const hostOpened = !literal && this.hostAllowed(hostname);
    for (const address of addresses) {
      const verdict = this.judge(address, hostOpened);
      if (verdict !== 'public' && verdict !== 'allowed') {
        throw new EgressDeniedError(
          `${literal ? hostname : `${hostname} resolves to`} ${address.toString()} (${verdict})`,
        );
      }
    }
    const opened = hostOpened || addresses.every((address) => this.rangeAllowed(address));
    if (destination.protocol === 'http:' && !opened) {
      throw new EgressDeniedError(
        `plain http to ${hostname} (only allowlisted hosts may use http)`,
      );
    }
    const defaultPort = destination.protocol === 'http:' ? 80 : 443;
    const port = destination.port || defaultPort;
    if (port !== 443 && !opened && !this.allowlist.ports.has(port)) {
      throw new EgressDeniedError(`port ${port} of ${hostname} (only 443 unless allowlisted)`);
    }
    const first = addresses[0] as IpAddress;
    return { address: first.toString(), family: first.kind() === 'ipv4' ? 4 : 6 };
  }

  /** `allowed` (opened by the allowlist), `public`, or the class that denies the address. */
  judge(address: IpAddress, hostOpened = false): AddressClass | 'allowed' {
    if (isMetadataAddress(address)) {
      const exact = this.allowlist.ranges.some(
        ([range, bits]) =>
          bits === (range.kind() === 'ipv4' ? 32 : 128) && sameAddress(range, address),
      );
      return exact ? 'allowed' : 'metadata';
    }
    if (this.rangeAllowed(address)) return 'allowed';
    const verdict = classifyAddress(address);
    if (verdict === 'public') return 'public';
    return hostOpened ? 'allowed' : verdict;
  }

  private rangeAllowed(address: IpAddress): boolean {
    const candidates = [address];
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      candidates.push((address as ipaddr.IPv6).toIPv4Address());
    }
    return this.allowlist.ranges.some(([range, bits]) =>
      candidates.some(
        (candidate) => candidate.kind() === range.kind() && candidate.match(range, bits),
      ),
    );
  }

  private hostAllowed(hostname: string): boolean {
    const name = hostname.replace(/\.$/, '');
    return this.allowlist.hosts.some((entry) =>
      entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry,
    );
  }
}
