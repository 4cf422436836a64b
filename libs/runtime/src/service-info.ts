import { hostname } from 'node:os';

import type { ServiceName } from '@tengine/contracts';

/** Who this service instance is. */
export interface ServiceInfo {
  readonly name: ServiceName;
  readonly version: string;
  readonly instance: string;
  readonly startedAt: number;
  /** PostgreSQL schema owned, or null for the gateway. */
  readonly schema: string | null;
}

/** The platform version, reported by every service. */
export const TENGINE_VERSION = '0.1.0';

export function serviceInfo(name: ServiceName, schema: string | null): ServiceInfo {
  return {
    name,
    version: TENGINE_VERSION,
    instance: `${hostname()}:${process.pid}`,
    startedAt: Date.now(),
    schema,
  };
}
