import { hostname } from 'node:os';

import type { ServiceName } from '@tengine/contracts';
import { TENGINE_VERSION } from '@tengine/telemetry';

/** Who this service instance is. */
export interface ServiceInfo {
  readonly name: ServiceName;
  readonly version: string;
  readonly instance: string;
  readonly startedAt: number;
  /** PostgreSQL schema owned, or null for the gateway. */
  readonly schema: string | null;
}

export { TENGINE_VERSION } from '@tengine/telemetry';

export function serviceInfo(name: ServiceName, schema: string | null): ServiceInfo {
  return {
    name,
    version: TENGINE_VERSION,
    instance: `${hostname()}:${process.pid}`,
    startedAt: Date.now(),
    schema,
  };
}
