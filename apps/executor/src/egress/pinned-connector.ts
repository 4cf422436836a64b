import { isIP } from 'node:net';

import { buildConnector } from 'undici';

import type { EgressPolicy } from './egress-policy.js';

/**
 * An undici connector that runs the egress policy for every new connection and connects to the
 * address the policy checked, never to a name: net/tls get an IP literal (no second DNS lookup, so
 * DNS rebinding cannot swap the address), while TLS keeps the original host name for SNI and
 * certificate verification. undici sets `noDelay` on every socket it connects (Nagle off).
 */
export function pinnedConnector(
  policy: EgressPolicy,
  connectTimeoutMs: number,
): buildConnector.connector {
  const connect = buildConnector({ timeout: connectTimeoutMs });
  return (options, callback) => {
    const hostname = options.hostname.replace(/^\[(.*)\]$/, '$1');
    policy.check({ protocol: options.protocol, hostname, port: Number(options.port) }).then(
      (target) => {
        const servername = options.servername ?? (isIP(hostname) === 0 ? hostname : undefined);
        connect(
          {
            ...options,
            hostname: target.address,
            ...(servername === undefined ? {} : { servername }),
          },
          callback,
        );
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)), null);
      },
    );
  };
}
