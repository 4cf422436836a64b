import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by the audit service. WARNING: persisted by clients; never rename one. */
export const AUDIT_ERROR_CODES = [] as const;

export const AUDIT_SUBJECTS = {
  statusGet: 'rpc.audit.status.get.v1',
} as const;

export const AUDIT_RPC = {
  [AUDIT_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
} as const;

/** Events the audit service publishes. */
export const AUDIT_EVENTS = {} as const;
