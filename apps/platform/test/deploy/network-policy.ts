import { isPlain, type Plain } from './repo.js';
import type { KubeObject } from './kustomize.js';

/**
 * A small evaluator of NetworkPolicy semantics, enough to ask "may this pod send to / receive
 * from that peer on that port": a pod selected by no policy of a direction is unrestricted in
 * that direction; once selected, only what some rule allows gets through.
 */

/** A pod of the namespace under test. */
export interface Pod {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Named container ports, for rules that name a port. */
  readonly ports: Record<string, number>;
}

/** The other end of a connection: a pod elsewhere in the cluster, or an address outside it. */
export type Peer =
  | {
      readonly kind: 'pod';
      readonly namespace: string;
      readonly namespaceLabels: Record<string, string>;
      readonly labels: Record<string, string>;
    }
  | { readonly kind: 'ip'; readonly address: string };

export type Direction = 'Ingress' | 'Egress';

/** Equality and set-based label selectors (matchLabels, matchExpressions). */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isPlain(selector)) return false;
  const matchLabels = isPlain(selector['matchLabels']) ? selector['matchLabels'] : {};
  for (const [key, value] of Object.entries(matchLabels)) {
    if (labels[key] !== value) return false;
  }
  const expressions = Array.isArray(selector['matchExpressions'])
    ? (selector['matchExpressions'] as Plain[])
    : [];
  for (const expression of expressions) {
    const key = String(expression['key']);
    const values = Array.isArray(expression['values']) ? expression['values'].map(String) : [];
    const value = labels[key];
    switch (expression['operator']) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${String(expression['operator'])}`);
    }
  }
  return true;
}

function ipv4(address: string): number | null {
  const parts = address.split('.').map(Number);
  if (
    parts.length !== 4 ||
    parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)
  ) {
    return null;
  }
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

/** IPv4 CIDR membership; IPv6 blocks never contain the IPv4 test addresses. */
export function inCidr(address: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const ip = ipv4(address);
  const network = ipv4(base);
  if (ip === null || network === null) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ip / size) === Math.floor(network / size);
}

function peerMatches(rulePeer: Plain, peer: Peer, policyNamespace: string): boolean {
  if (isPlain(rulePeer['ipBlock'])) {
    if (peer.kind !== 'ip') return false;
    const block = rulePeer['ipBlock'];
    const except = Array.isArray(block['except']) ? block['except'].map(String) : [];
    return (
      inCidr(peer.address, String(block['cidr'])) &&
      !except.some((cidr) => inCidr(peer.address, cidr))
    );
  }
  if (peer.kind !== 'pod') return false;
  const namespaceSelector = rulePeer['namespaceSelector'];
  const podSelector = rulePeer['podSelector'];
  const namespaceOk =
    namespaceSelector === undefined
      ? peer.namespace === policyNamespace
      : selects(namespaceSelector, peer.namespaceLabels);
  const podOk = podSelector === undefined || selects(podSelector, peer.labels);
  return namespaceOk && podOk;
}

function portMatches(
  rulePorts: unknown,
  port: number,
  protocol: string,
  namedPorts: Record<string, number>,
): boolean {
  if (!Array.isArray(rulePorts) || rulePorts.length === 0) return true;
  return (rulePorts as Plain[]).some((entry) => {
    if ((entry['protocol'] ?? 'TCP') !== protocol) return false;
    if (entry['port'] === undefined) return true;
    const wanted =
      typeof entry['port'] === 'string' ? namedPorts[entry['port']] : Number(entry['port']);
    const end = entry['endPort'] === undefined ? wanted : Number(entry['endPort']);
    return wanted !== undefined && end !== undefined && port >= wanted && port <= end;
  });
}

/** The NetworkPolicies that select `pod` for `direction`. */
export function policiesFor(
  policies: readonly KubeObject[],
  pod: Pod,
  direction: Direction,
): KubeObject[] {
  return policies.filter((policy) => {
    const spec = policy['spec'] as Plain;
    const types = Array.isArray(spec['policyTypes'])
      ? spec['policyTypes'].map(String)
      : ['Ingress', ...(spec['egress'] === undefined ? [] : ['Egress'])];
    return (
      (policy.metadata.namespace ?? '') === pod.namespace &&
      types.includes(direction) &&
      selects(spec['podSelector'], pod.labels)
    );
  });
}

/**
 * Whether `pod` may open a connection to `peer` (Egress) or accept one from it (Ingress) on
 * `port`. Named ports in egress rules would name the peer's ports and are not supported.
 */
export function allows(
  policies: readonly KubeObject[],
  pod: Pod,
  direction: Direction,
  peer: Peer,
  port: number,
  protocol = 'TCP',
): boolean {
  const selecting = policiesFor(policies, pod, direction);
  if (selecting.length === 0) return true;
  const rulesField = direction === 'Ingress' ? 'ingress' : 'egress';
  const peersField = direction === 'Ingress' ? 'from' : 'to';
  return selecting.some((policy) => {
    const spec = policy['spec'] as Plain;
    const rules = Array.isArray(spec[rulesField]) ? (spec[rulesField] as Plain[]) : [];
    return rules.some((rule) => {
      const peers = rule[peersField];
      const peerOk =
        !Array.isArray(peers) ||
        peers.length === 0 ||
        (peers as Plain[]).some((rulePeer) => peerMatches(rulePeer, peer, pod.namespace));
      const named = direction === 'Ingress' ? pod.ports : {};
      return peerOk && portMatches(rule['ports'], port, protocol, named);
    });
  });
}

/** Rules that let any address through: no peers listed, or an ipBlock covering everything. */
export function opensToEverywhere(rule: Plain, peersField: 'from' | 'to'): boolean {
  const peers = rule[peersField];
  if (!Array.isArray(peers) || peers.length === 0) return true;
  return (peers as Plain[]).some((peer) => {
    if (!isPlain(peer['ipBlock'])) return false;
    const cidr = String(peer['ipBlock']['cidr']);
    return cidr.endsWith('/0');
  });
}
