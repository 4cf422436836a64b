import { z } from 'zod';

import { PrincipalSchema, ScopeSchema } from './principal.js';
import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by identity. WARNING: persisted by clients; never rename one. */
export const IDENTITY_ERROR_CODES = [
  'IDENTITY_INVALID_API_KEY',
  'IDENTITY_INVALID_CREDENTIAL',
  'IDENTITY_INVALID_ASSERTION',
  'IDENTITY_SESSION_EXPIRED',
  'IDENTITY_CREDENTIAL_MISSING',
  'IDENTITY_SCOPE_MISSING',
  'IDENTITY_ADMIN_REQUIRED',
  'IDENTITY_PROJECT_REQUIRED',
  'IDENTITY_EXTERNAL_ID_DISABLED',
  'IDENTITY_MEMBER_UNRESOLVED',
  'IDENTITY_MEMBER_INPUT_MISSING',
  'IDENTITY_KEY_MISSING_INTEGRATION',
  'IDENTITY_PUBLIC_KEY_INVALID',
  'IDENTITY_ALGORITHM_UNSUPPORTED',
  'IDENTITY_KID_TAKEN',
  'IDENTITY_API_KEY_NOT_FOUND',
  'IDENTITY_ASSERTION_KEY_NOT_FOUND',
  'IDENTITY_SESSION_NOT_FOUND',
] as const;

/**
 * Why a member assertion was refused; the 401 detail is `Invalid member assertion: <reason>`.
 * The first five are the reference's; the others name further checks RFC 7523/8725 require.
 */
export const ASSERTION_FAILURE_REASONS = [
  'MISSING_KID',
  'KEY_NOT_FOUND',
  'AUD_MISMATCH',
  'EXPIRED',
  'INVALID_SIGNATURE',
  'MALFORMED',
  'ALG_NOT_ALLOWED',
  'WRONG_TYPE',
  'MISSING_CLAIM',
  'LIFETIME_TOO_LONG',
  'NOT_YET_VALID',
  'REPLAYED',
] as const;
export type AssertionFailureReason = (typeof ASSERTION_FAILURE_REASONS)[number];

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

const ProjectRefSchema = z.object({ projectId: z.string().uuid() }).strict();

/** Request of `rpc.identity.credential.verify.v1`: any credential a client presented. */
export const VerifyCredentialRequestSchema = z
  .object({ credential: z.string().min(1).max(4096) })
  .strict();

/** An API key as listed: never the key itself. */
export const ApiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  project_id: z.string().uuid(),
  integration_id: z.string().uuid(),
  /** The first characters of the key, enough to recognise it (`tengine_Ab12`). */
  prefix: z.string(),
  last4: z.string(),
  scopes: z.array(ScopeSchema),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof ApiKeyViewSchema>;

export const CreateApiKeyRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    integrationId: z.string().uuid(),
    name: z.string().trim().min(1).max(100),
    scopes: z.array(ScopeSchema).min(1).max(10),
  })
  .strict();
/** The reply that carries the full key, the only time it is ever shown. */
export const CreatedApiKeySchema = z.object({ api_key: ApiKeyViewSchema, key: z.string() });
export const ApiKeyRefSchema = z
  .object({ projectId: z.string().uuid(), keyId: z.string().min(1).max(64) })
  .strict();

export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'Ed25519', 'RS256'] as const;

/** A customer's registered public key for member assertions. */
export const AssertionKeyViewSchema = z.object({
  id: z.string().uuid(),
  project_id: z.string().uuid(),
  kid: z.string(),
  algorithm: z.enum(ASSERTION_ALGORITHMS),
  public_key: z.string(),
  active: z.boolean(),
  created_at: z.string(),
  deactivated_at: z.string().nullable(),
});
export type AssertionKeyView = z.infer<typeof AssertionKeyViewSchema>;

export const RegisterAssertionKeyRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    kid: z.string().min(1).max(128),
    /** Any string: unsupported ones get the reference's 400, not a validation error. */
    algorithm: z.string().max(32),
    public_key: z.string().max(16_384),
  })
  .strict();
export const AssertionKeyRefSchema = z
  .object({ projectId: z.string().uuid(), assertionKeyId: z.string().uuid() })
  .strict();

/** Request of `rpc.identity.session.mint.v1`; exactly the fields of the HTTP body plus the caller. */
export const MintSessionRequestSchema = z
  .object({
    principal: PrincipalSchema,
    /** Bounded generously here; identity refuses anything over 8 KiB as MALFORMED before parsing. */
    member_assertion: z.string().max(65_536).optional(),
    member_external_id: z.string().max(256).optional(),
  })
  .strict();
export const MintedSessionSchema = z.object({
  session_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  expires_at: z.string(),
  session_id: z.string(),
  member_id: z.string().uuid(),
  member_external_id: z.string(),
});
export type MintedSession = z.infer<typeof MintedSessionSchema>;
export const SessionRefSchema = z
  .object({ projectId: z.string().uuid(), sessionId: z.string().min(1).max(64) })
  .strict();

/** Public keys gateways verify session tokens with (RFC 7517 JWK Set). */
export const JwksSchema = z.object({
  keys: z.array(
    z.object({
      kid: z.string(),
      kty: z.string(),
      crv: z.string().optional(),
      x: z.string().optional(),
      alg: z.string().optional(),
      use: z.string().optional(),
    }),
  ),
});
export type Jwks = z.infer<typeof JwksSchema>;

/** Credentials revoked recently enough that a session token minted with them may still be unexpired. */
export const RecentRevocationsSchema = z.object({
  apiKeyIds: z.array(z.string()),
  sessionIds: z.array(z.string()),
});

export const IDENTITY_SUBJECTS = {
  statusGet: 'rpc.identity.status.get.v1',
  adminTokenBootstrap: 'rpc.identity.admin-token.bootstrap.v1',
  credentialVerify: 'rpc.identity.credential.verify.v1',
  apiKeyCreate: 'rpc.identity.api-key.create.v1',
  apiKeyList: 'rpc.identity.api-key.list.v1',
  apiKeyRevoke: 'rpc.identity.api-key.revoke.v1',
  assertionKeyRegister: 'rpc.identity.assertion-key.register.v1',
  assertionKeyList: 'rpc.identity.assertion-key.list.v1',
  assertionKeyDeactivate: 'rpc.identity.assertion-key.deactivate.v1',
  sessionMint: 'rpc.identity.session.mint.v1',
  sessionRevoke: 'rpc.identity.session.revoke.v1',
  jwksGet: 'rpc.identity.jwks.get.v1',
  revocationListRecent: 'rpc.identity.revocation.list-recent.v1',
  signingKeyRotate: 'rpc.identity.signing-key.rotate.v1',
  credentialRevoked: 'evt.identity.credential.revoked.v1',
  signingKeyRotated: 'evt.identity.signing-key.rotated.v1',
} as const;

const Empty = z.object({}).strict();

export const IDENTITY_RPC = {
  [IDENTITY_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [IDENTITY_SUBJECTS.adminTokenBootstrap]: rpc(
    AdminTokenBootstrapRequestSchema,
    AdminTokenBootstrapReplySchema,
  ),
  [IDENTITY_SUBJECTS.credentialVerify]: rpc(VerifyCredentialRequestSchema, PrincipalSchema),
  [IDENTITY_SUBJECTS.apiKeyCreate]: rpc(CreateApiKeyRequestSchema, CreatedApiKeySchema),
  [IDENTITY_SUBJECTS.apiKeyList]: rpc(
    ProjectRefSchema,
    z.object({ items: z.array(ApiKeyViewSchema) }),
  ),
  [IDENTITY_SUBJECTS.apiKeyRevoke]: rpc(ApiKeyRefSchema, ApiKeyViewSchema),
  [IDENTITY_SUBJECTS.assertionKeyRegister]: rpc(
    RegisterAssertionKeyRequestSchema,
    AssertionKeyViewSchema,
  ),
  [IDENTITY_SUBJECTS.assertionKeyList]: rpc(
    ProjectRefSchema,
    z.object({ items: z.array(AssertionKeyViewSchema) }),
  ),
  [IDENTITY_SUBJECTS.assertionKeyDeactivate]: rpc(AssertionKeyRefSchema, AssertionKeyViewSchema),
  [IDENTITY_SUBJECTS.sessionMint]: rpc(MintSessionRequestSchema, MintedSessionSchema),
  [IDENTITY_SUBJECTS.sessionRevoke]: rpc(SessionRefSchema, z.object({ revoked: z.literal(true) })),
  [IDENTITY_SUBJECTS.jwksGet]: rpc(Empty, JwksSchema),
  [IDENTITY_SUBJECTS.revocationListRecent]: rpc(Empty, RecentRevocationsSchema),
  [IDENTITY_SUBJECTS.signingKeyRotate]: rpc(Empty, z.object({ kid: z.string() })),
} as const;

/** A credential stopped working: gateways drop cached principals and close its streams. */
export const CredentialRevokedEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('api_key'),
    projectId: z.string().uuid(),
    keyId: z.string(),
    revokedAt: z.string(),
  }),
  z.object({
    kind: z.literal('session'),
    projectId: z.string().uuid(),
    sessionId: z.string(),
    revokedAt: z.string(),
  }),
]);
export type CredentialRevokedEvent = z.infer<typeof CredentialRevokedEventSchema>;

/** Identity started signing with a new key: gateways refresh their JWKS. */
export const SigningKeyRotatedEventSchema = z.object({ kid: z.string() });

/** Events identity publishes (fan-out to every gateway replica). */
export const IDENTITY_EVENTS = {
  [IDENTITY_SUBJECTS.credentialRevoked]: CredentialRevokedEventSchema,
  [IDENTITY_SUBJECTS.signingKeyRotated]: SigningKeyRotatedEventSchema,
} as const;
