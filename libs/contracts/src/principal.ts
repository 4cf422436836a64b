import { z } from 'zod';

/**
 * What a credential may do. A key without `mcp:connect` cannot list or call tools; management calls
 * name the scope they need in their 403.
 * WARNING: scope names are stored with every API key; never rename one.
 */
export const SCOPES = [
  'mcp:connect',
  'sessions:mint',
  'tools:write',
  'keys:write',
  'runs:read',
] as const;
export const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

/** The kinds of authenticated caller. */
export const PRINCIPAL_KINDS = ['admin', 'api_key', 'member_session'] as const;

/** The platform admin: operations across projects. */
export const AdminPrincipalSchema = z.object({
  kind: z.literal('admin'),
  /** Id of the admin token row (never the token). */
  keyId: z.string(),
});

/** A project API key (`tengine_…`): server-to-server, one project identity. */
export const ApiKeyPrincipalSchema = z.object({
  kind: z.literal('api_key'),
  keyId: z.string(),
  projectId: z.string().uuid(),
  integrationId: z.string().uuid(),
  scopes: z.array(ScopeSchema),
});

/** A member session token (`tng_mst_…`): one end user of a project. */
export const MemberSessionPrincipalSchema = z.object({
  kind: z.literal('member_session'),
  /** The API key the session token was minted with: revoking it revokes the session. */
  keyId: z.string(),
  /** Id of the session token itself (its `jti`), for individual revocation. */
  sessionId: z.string(),
  projectId: z.string().uuid(),
  integrationId: z.string().uuid(),
  memberId: z.string().uuid(),
  memberExternalId: z.string(),
  scopes: z.array(ScopeSchema),
  /** Unix seconds. */
  expiresAt: z.number().int(),
});

/**
 * Who is calling, as established by identity from a credential. The gateway derives every
 * project id it sends to other services from this, never from client input.
 */
export const PrincipalSchema = z.discriminatedUnion('kind', [
  AdminPrincipalSchema,
  ApiKeyPrincipalSchema,
  MemberSessionPrincipalSchema,
]);
export type Principal = z.infer<typeof PrincipalSchema>;

/** A principal bound to one project (everything but the platform admin). */
export const ProjectPrincipalSchema = z.discriminatedUnion('kind', [
  ApiKeyPrincipalSchema,
  MemberSessionPrincipalSchema,
]);
export type ProjectPrincipal = z.infer<typeof ProjectPrincipalSchema>;
