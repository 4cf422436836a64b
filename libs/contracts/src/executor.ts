import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by the executor service. WARNING: persisted by clients; never rename one. */
export const EXECUTOR_ERROR_CODES = [] as const;

export const EXECUTOR_SUBJECTS = {
  statusGet: 'rpc.executor.status.get.v1',
} as const;

export const EXECUTOR_RPC = {
  [EXECUTOR_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
} as const;

/** Events the executor service publishes. */
export const EXECUTOR_EVENTS = {} as const;
