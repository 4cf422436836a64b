import { z } from 'zod';

import { SERVICE_NAMES } from './services.js';

/** Request of `rpc.<service>.status.get.v1`: nothing to ask for. */
export const StatusRequestSchema = z.object({}).strict();
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

/** Migration state of the PostgreSQL schema a service owns. */
export const SchemaStateSchema = z.object({
  /** PostgreSQL schema name, e.g. `registry`. */
  name: z.string(),
  /** Names of the migrations applied, oldest first. */
  applied: z.array(z.string()),
  /** Names of the migrations this build knows but the database has not applied. */
  pending: z.array(z.string()),
});
export type SchemaState = z.infer<typeof SchemaStateSchema>;

/** Reply of `rpc.<service>.status.get.v1`. */
export const ServiceStatusSchema = z.object({
  service: z.enum(SERVICE_NAMES),
  version: z.string(),
  /** Identifies the replica that answered (hostname and pid by default). */
  instance: z.string(),
  uptimeSeconds: z.number().nonnegative(),
  /** Null for the gateway, which owns no tables. */
  schema: SchemaStateSchema.nullable(),
});
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;
