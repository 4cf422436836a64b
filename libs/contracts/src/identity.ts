import { z } from 'zod';

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
