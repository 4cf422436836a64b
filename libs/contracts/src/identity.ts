import { z } from 'zod';

import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by identity. WARNING: persisted by clients; never rename one. */
export const IDENTITY_ERROR_CODES = [] as const;

/** Request of `rpc.identity.admin-token.bootstrap.v1`. */
export const AdminTokenBootstrapRequestSchema = z.object({}).strict();
export type AdminTokenBootstrapRequest = z.infer<typeof AdminTokenBootstrapRequestSchema>;

/**
 * Reply of `rpc.identity.admin-token.bootstrap.v1`. `token` is the plaintext admin token, present
 * only in the one reply that created it; identity keeps only its hash.
 */
export const AdminTokenBootstrapReplySchema = z.object({
  created: z.boolean(),
  token: z.string().nullable(),
  /** `environment`: TENGINE_ADMIN_TOKEN is in force; `existing`: one was created earlier. */
  source: z.enum(['bootstrap', 'environment', 'existing']),
});
export type AdminTokenBootstrapReply = z.infer<typeof AdminTokenBootstrapReplySchema>;

export const IDENTITY_SUBJECTS = {
  statusGet: 'rpc.identity.status.get.v1',
  adminTokenBootstrap: 'rpc.identity.admin-token.bootstrap.v1',
} as const;

export const IDENTITY_RPC = {
  [IDENTITY_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [IDENTITY_SUBJECTS.adminTokenBootstrap]: rpc(AdminTokenBootstrapRequestSchema, AdminTokenBootstrapReplySchema),
} as const;

/** Events identity publishes (fan-out to every gateway replica). */
export const IDENTITY_EVENTS = {} as const;
