/**
 * Contracts of the registry: projects, integrations and custom tools.
 *
 * Naming convention on the wire (one rule for every registry subject):
 * - Resource fields, meaning everything the public REST API carries as JSON (tool, project and
 *   integration bodies, the client-supplied part of a request such as `base_url`,
 *   `expected_version` or `dry_run`, list pages), are snake_case, exactly as the product reference
 *   names them. A gateway controller forwards a request body unchanged, merged with the envelope,
 *   and returns a reply unchanged.
 * - Envelope fields that only tengine services set are camelCase: the ids the gateway derives from
 *   the authenticated principal (`projectId`, never taken from a client body) or from the URL path
 *   (`toolId`, `integrationId`), the principal filter of the data plane (`scopes`, `isMember`),
 *   tool-list versions, event payloads, and error `details` (`currentVersion`, `issues`).
 *
 * Every request of a project-owned object carries `projectId`; an id that belongs to another project
 * answers exactly like an id that does not exist (a `*_NOT_FOUND` error, never a hint).
 */
import { z } from 'zod';

import { ScopeSchema } from './principal.js';
import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by the registry. WARNING: persisted by clients; never rename one. */
export const REGISTRY_ERROR_CODES = [
  'REGISTRY_PROJECT_NOT_FOUND',
  'REGISTRY_INTEGRATION_NOT_FOUND',
  /** No live tool with that id or name in the caller's project. */
  'REGISTRY_TOOL_NOT_FOUND',
  /** A tool definition breaks a registration rule; the message is the reference's `detail`. */
  'REGISTRY_TOOL_INVALID',
  /** Another live tool of the project already has that name. */
  'REGISTRY_TOOL_NAME_TAKEN',
  /** `expected_version` is not the tool's current version; `details.currentVersion` says which is. */
  'REGISTRY_TOOL_VERSION_CONFLICT',
  /** The project already has {@link MAX_TOOLS_PER_PROJECT} tools. */
  'REGISTRY_TOOL_LIMIT_REACHED',
  /** A stored auth secret cannot be decrypted (corrupted, copied, or its key is gone). */
  'REGISTRY_SECRET_DECRYPT_FAILED',
  /** A secret must be encrypted but the registry has no TENGINE_SECRET_KEYS. */
  'REGISTRY_SECRET_KEYS_NOT_CONFIGURED',
  /** An OpenAPI document to import cannot be parsed or is not valid OpenAPI 3.0/3.1. */
  'REGISTRY_OPENAPI_INVALID',
] as const;

/**
 * The product reference's `detail` texts ("Custom Tool Errors" and "Tool Registration Errors"),
 * used verbatim as the message of the matching error. WARNING: clients match on these; never
 * reword one.
 */
export const TOOL_ERROR_DETAILS = {
  /** 400, `REGISTRY_TOOL_INVALID`. */
  reservedVariable: 'Reserved variable cannot be provided as user input',
  /** 400, `REGISTRY_TOOL_INVALID`. */
  baseUrlHttps: 'base_url must use HTTPS',
  /** 400, `REGISTRY_TOOL_INVALID`. */
  baseUrlOriginOnly: 'base_url must be origin-only (no paths)',
  /** 400, `REGISTRY_TOOL_INVALID`. */
  endpointPathSlash: 'endpoint_path must start with /',
  /** 400, `REGISTRY_TOOL_INVALID`, whichever template uses `{{member_id}}`. */
  memberIdWithoutMember: 'endpoint_path uses {{member_id}} but require_member=False',
  /** 400, `REGISTRY_TOOL_INVALID`. */
  hmacSecretRequired: "encrypted_auth_secret is required when auth_strategy is 'hmac_signature'",
  /** 400, `REGISTRY_TOOL_INVALID`. */
  bearerSecretRequired: "encrypted_auth_secret is required when auth_strategy is 'bearer'",
  /** 500, `REGISTRY_SECRET_DECRYPT_FAILED`. */
  decryptFailed: 'Failed to decrypt auth secret',
} as const;

// ---------------------------------------------------------------------------------------------
// Projects and integrations
// ---------------------------------------------------------------------------------------------

export const PROJECT_ENVIRONMENTS = ['development', 'production'] as const;
export const ProjectEnvironmentSchema = z.enum(PROJECT_ENVIRONMENTS);

/** An isolated execution environment: its own keys, integrations and tools. */
export const ProjectSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  environment: ProjectEnvironmentSchema,
  /** ISO 8601. */
  created_at: z.string(),
});
export type Project = z.infer<typeof ProjectSchema>;

export const INTEGRATION_KINDS = ['claude_desktop', 'cursor', 'sdk', 'custom'] as const;

/** An MCP client connection of a project; API keys are created from one. */
export const IntegrationSchema = z.object({
  id: z.string().uuid(),
  project_id: z.string().uuid(),
  kind: z.enum(INTEGRATION_KINDS),
  name: z.string(),
  /** ISO 8601. */
  created_at: z.string(),
});
export type Integration = z.infer<typeof IntegrationSchema>;

/** Request of `rpc.registry.project.get.v1` and `rpc.registry.integration.list.v1`. */
export const ProjectRefSchema = z.object({ projectId: z.string().uuid() }).strict();
export type ProjectRef = z.infer<typeof ProjectRefSchema>;

/** Cursor pagination of list requests; `cursor` is the `next_cursor` of the previous page. */
const PageRequestShape = {
  cursor: z.string().max(400).optional(),
  limit: z.number().int().min(1).max(200).optional(),
};

/** Request of `rpc.registry.project.create.v1` (platform admin only). */
export const CreateProjectRequestSchema = z
  .object({ name: z.string().trim().min(1).max(100), environment: ProjectEnvironmentSchema })
  .strict();
export type CreateProjectRequest = z.infer<typeof CreateProjectRequestSchema>;

/** Request of `rpc.registry.project.list.v1` (platform admin only): oldest first. */
export const ListProjectsRequestSchema = z.object(PageRequestShape).strict();
export type ListProjectsRequest = z.infer<typeof ListProjectsRequestSchema>;

/** Reply of `rpc.registry.project.list.v1`; `next_cursor` is null on the last page. */
export const ProjectPageSchema = z.object({
  items: z.array(ProjectSchema),
  next_cursor: z.string().nullable(),
});
export type ProjectPage = z.infer<typeof ProjectPageSchema>;

/** Request of `rpc.registry.integration.create.v1`. */
export const CreateIntegrationRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    kind: z.enum(INTEGRATION_KINDS),
    name: z.string().trim().min(1).max(100),
  })
  .strict();
export type CreateIntegrationRequest = z.infer<typeof CreateIntegrationRequestSchema>;

/** Request of `rpc.registry.integration.get.v1` and `rpc.registry.integration.delete.v1`. */
export const IntegrationRefSchema = z
  .object({ projectId: z.string().uuid(), integrationId: z.string().uuid() })
  .strict();
export type IntegrationRef = z.infer<typeof IntegrationRefSchema>;

/** Reply of `rpc.registry.integration.list.v1`: live integrations, oldest first. */
export const IntegrationListSchema = z.object({ items: z.array(IntegrationSchema) });
export type IntegrationList = z.infer<typeof IntegrationListSchema>;

/** Reply of `rpc.registry.integration.delete.v1`. */
export const IntegrationDeletedReplySchema = z.object({ deleted: z.literal(true) });
export type IntegrationDeletedReply = z.infer<typeof IntegrationDeletedReplySchema>;

// ---------------------------------------------------------------------------------------------
// Custom tools
// ---------------------------------------------------------------------------------------------

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const HttpMethodSchema = z.enum(HTTP_METHODS);
export type HttpMethod = z.infer<typeof HttpMethodSchema>;

/**
 * How the executor authenticates a tool's outbound request: `bearer` sends the secret as
 * `Authorization: Bearer …`; `hmac_signature` signs the request with it.
 */
export const AUTH_STRATEGIES = ['none', 'bearer', 'hmac_signature'] as const;
export const AuthStrategySchema = z.enum(AUTH_STRATEGIES);
export type AuthStrategy = z.infer<typeof AuthStrategySchema>;

/**
 * Template variables tengine fills at call time from the principal, never from tool arguments.
 * They may appear in templates but not as `input_schema` properties.
 */
export const RESERVED_TEMPLATE_VARIABLES = ['member_id', 'project_id', 'integration_id'] as const;

/**
 * Headers a tool's `header_template` may not set: framing and connection headers (the HTTP client
 * owns them), credentials (use an auth strategy, so the secret is encrypted), and the headers
 * tengine sets for identity, signing, idempotency and tracing, which must not be forged. The
 * registry refuses them at registration and the executor again at render time.
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'authorization',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'traceparent',
  'tracestate',
]);

/** True when a template may not set this header (tengine's own `X-Tengine-*` included). */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADER_NAMES.has(lower) || lower.startsWith('x-tengine-');
}

/** MCP tool-name rules: 1 to 64 characters of `[A-Za-z0-9_-]`. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Size and range bounds of a tool definition. */
export const TOOL_LIMITS = {
  descriptionMaxLength: 4096,
  urlMaxLength: 2048,
  templateEntriesMax: 50,
  templateKeyMaxLength: 256,
  templateValueMaxLength: 2048,
  /** Serialized JSON size of `body_template`. */
  bodyTemplateMaxBytes: 16 * 1024,
  /** Serialized JSON size of `input_schema`. */
  inputSchemaMaxBytes: 64 * 1024,
  /** Nesting depth of `input_schema` (objects and arrays). */
  inputSchemaMaxDepth: 64,
  /** Length of one regular expression (`pattern`, `patternProperties` key) in `input_schema`. */
  patternMaxLength: 512,
  secretMaxLength: 4096,
  timeoutMinMs: 100,
  timeoutMaxMs: 60_000,
  timeoutDefaultMs: 10_000,
} as const;

/**
 * Most live tools one project may have. The gateway reads a project's tools in pages and caches
 * them per tool-list version, so a large catalog costs memory once, not per call (the benchmark
 * measures tools/call and tools/list with 1, 100 and 10,000 tools).
 */
export const MAX_TOOLS_PER_PROJECT = 10_000;

/** A tool name following {@link TOOL_NAME_PATTERN}. */
export const ToolNameSchema = z
  .string()
  .regex(TOOL_NAME_PATTERN, 'must be 1-64 characters of letters, digits, "_" or "-"');

/** MCP tool annotations: hints for clients, never enforced. */
export const ToolAnnotationsSchema = z
  .object({
    title: z.string().max(200).optional(),
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  })
  .strict();
export type ToolAnnotations = z.infer<typeof ToolAnnotationsSchema>;

/** A record of string templates (query parameters or headers), bounded in size. */
const StringTemplateRecordSchema = z
  .record(
    z.string().min(1).max(TOOL_LIMITS.templateKeyMaxLength),
    z.string().max(TOOL_LIMITS.templateValueMaxLength),
  )
  .refine((record) => Object.keys(record).length <= TOOL_LIMITS.templateEntriesMax, {
    message: `at most ${TOOL_LIMITS.templateEntriesMax} entries`,
  });

/** A JSON Schema object (validated further by the registry: ajv, `type: "object"` root, bounds). */
const JsonSchemaObjectSchema = z.record(z.string(), z.unknown());

/**
 * The fields a client writes to define a tool, as the REST API names them.
 *
 * Templates: `endpoint_path`, the values of `query_template` and `header_template`, and the string
 * leaves of `body_template` may contain `{{name}}` placeholders. Every name is either a reserved
 * variable ({@link RESERVED_TEMPLATE_VARIABLES}, filled from the principal) or a top-level
 * property of `input_schema`. The executor encodes a value substituted into `endpoint_path` as one
 * path segment; a query or header entry whose template is a single placeholder of an absent
 * optional argument is left out; a `body_template` string that is exactly one placeholder takes
 * the argument's JSON value unchanged.
 *
 * `input_schema` is JSON Schema 2020-12 (draft-07 when its `$schema` says so) with an `object`
 * root, compiled with ajv (non-strict, ajv-formats; formats ajv does not know are annotations).
 */
const ToolFieldsShape = {
  name: ToolNameSchema,
  description: z.string().max(TOOL_LIMITS.descriptionMaxLength),
  method: HttpMethodSchema,
  /** HTTPS origin only, e.g. `https://api.example.com`. */
  base_url: z.string().min(1).max(TOOL_LIMITS.urlMaxLength),
  /** Starts with `/`; may hold `{{var}}` placeholders. */
  endpoint_path: z.string().min(1).max(TOOL_LIMITS.urlMaxLength),
  query_template: StringTemplateRecordSchema.nullable(),
  header_template: StringTemplateRecordSchema.nullable(),
  /** JSON sent as the request body (not allowed with GET). */
  body_template: z.json().nullable(),
  input_schema: JsonSchemaObjectSchema,
  auth_strategy: AuthStrategySchema,
  /**
   * Write-only: the plaintext secret (sent over TLS), stored encrypted and never returned. Required
   * when `auth_strategy` is `bearer` or `hmac_signature`.
   */
  encrypted_auth_secret: z.string().min(1).max(TOOL_LIMITS.secretMaxLength),
  /** The tool can be called only with a member session token. */
  require_member: z.boolean(),
  /** Disabled tools are invisible to MCP clients. */
  is_enabled: z.boolean(),
  timeout_ms: z.number().int().min(TOOL_LIMITS.timeoutMinMs).max(TOOL_LIMITS.timeoutMaxMs),
  /** When set, only credentials holding this scope see and call the tool. */
  required_scope: ScopeSchema.nullable(),
  annotations: ToolAnnotationsSchema,
};

/** A full tool definition as a client sends it on create (defaults applied). */
export const ToolDefinitionInputSchema = z
  .object({
    name: ToolFieldsShape.name,
    description: ToolFieldsShape.description.default(''),
    method: ToolFieldsShape.method,
    base_url: ToolFieldsShape.base_url,
    endpoint_path: ToolFieldsShape.endpoint_path,
    query_template: ToolFieldsShape.query_template.default(null),
    header_template: ToolFieldsShape.header_template.default(null),
    body_template: ToolFieldsShape.body_template.default(null),
    input_schema: ToolFieldsShape.input_schema.default(() => ({ type: 'object', properties: {} })),
    auth_strategy: ToolFieldsShape.auth_strategy.default('none'),
    encrypted_auth_secret: ToolFieldsShape.encrypted_auth_secret.optional(),
    require_member: ToolFieldsShape.require_member.default(false),
    is_enabled: ToolFieldsShape.is_enabled.default(true),
    timeout_ms: ToolFieldsShape.timeout_ms.default(TOOL_LIMITS.timeoutDefaultMs),
    required_scope: ToolFieldsShape.required_scope.default(null),
    annotations: ToolFieldsShape.annotations.default({}),
  })
  .strict();
export type ToolDefinitionInput = z.infer<typeof ToolDefinitionInputSchema>;

/**
 * Request of `rpc.registry.tool.create.v1` (`POST /api/v1/custom-tools`): the client's body plus
 * the principal's `projectId`.
 */
export const CreateToolRequestSchema = ToolDefinitionInputSchema.extend({
  projectId: z.string().uuid(),
}).strict();
export type CreateToolRequest = z.infer<typeof CreateToolRequestSchema>;

/** Optimistic concurrency: the version the client last read; a mismatch is a 409. */
const ExpectedVersionSchema = z.number().int().min(1);

/**
 * Request of `rpc.registry.tool.update.v1` (`PUT /api/v1/custom-tools/{toolId}`): replaces the
 * whole definition. `encrypted_auth_secret` left out keeps the stored secret; `null` removes it.
 */
export const UpdateToolRequestSchema = ToolDefinitionInputSchema.extend({
  projectId: z.string().uuid(),
  toolId: z.string().uuid(),
  expected_version: ExpectedVersionSchema.optional(),
  encrypted_auth_secret: ToolFieldsShape.encrypted_auth_secret.nullable().optional(),
}).strict();
export type UpdateToolRequest = z.infer<typeof UpdateToolRequestSchema>;

/**
 * Request of `rpc.registry.tool.patch.v1` (`PATCH /api/v1/custom-tools/{toolId}`): changes only
 * the fields present; `null` clears a nullable field (`encrypted_auth_secret: null` removes the
 * secret).
 */
export const PatchToolRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    toolId: z.string().uuid(),
    expected_version: ExpectedVersionSchema.optional(),
    name: ToolFieldsShape.name.optional(),
    description: ToolFieldsShape.description.optional(),
    method: ToolFieldsShape.method.optional(),
    base_url: ToolFieldsShape.base_url.optional(),
    endpoint_path: ToolFieldsShape.endpoint_path.optional(),
    query_template: ToolFieldsShape.query_template.optional(),
    header_template: ToolFieldsShape.header_template.optional(),
    body_template: ToolFieldsShape.body_template.optional(),
    input_schema: ToolFieldsShape.input_schema.optional(),
    auth_strategy: ToolFieldsShape.auth_strategy.optional(),
    encrypted_auth_secret: ToolFieldsShape.encrypted_auth_secret.nullable().optional(),
    require_member: ToolFieldsShape.require_member.optional(),
    is_enabled: ToolFieldsShape.is_enabled.optional(),
    timeout_ms: ToolFieldsShape.timeout_ms.optional(),
    required_scope: ToolFieldsShape.required_scope.optional(),
    annotations: ToolFieldsShape.annotations.optional(),
  })
  .strict();
export type PatchToolRequest = z.infer<typeof PatchToolRequestSchema>;

/**
 * Request of `rpc.registry.tool.delete.v1`, `…tool.enable.v1` and `…tool.disable.v1`. Enabling an
 * enabled tool (or disabling a disabled one) changes nothing and publishes nothing.
 */
export const ToolCommandRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    toolId: z.string().uuid(),
    expected_version: ExpectedVersionSchema.optional(),
  })
  .strict();
export type ToolCommandRequest = z.infer<typeof ToolCommandRequestSchema>;

/** What reads say about a tool's secret: never the secret itself. */
export const AuthSecretStatusSchema = z.object({
  set: z.boolean(),
  /** Last four characters, only for secrets of at least 12 characters; null otherwise. */
  last4: z.string().nullable(),
});
export type AuthSecretStatus = z.infer<typeof AuthSecretStatusSchema>;

/** The stored definition of a tool without its identity (also what an import would create). */
export const ToolDefinitionSchema = z.object({
  name: z.string(),
  description: z.string(),
  method: HttpMethodSchema,
  base_url: z.string(),
  endpoint_path: z.string(),
  query_template: z.record(z.string(), z.string()).nullable(),
  header_template: z.record(z.string(), z.string()).nullable(),
  body_template: z.json().nullable(),
  input_schema: z.record(z.string(), z.unknown()),
  auth_strategy: AuthStrategySchema,
  auth_secret: AuthSecretStatusSchema,
  require_member: z.boolean(),
  is_enabled: z.boolean(),
  timeout_ms: z.number().int(),
  required_scope: ScopeSchema.nullable(),
  annotations: ToolAnnotationsSchema,
});
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;

/**
 * A tool as every read returns it. `version` grows by one on every change (update, patch, enable,
 * disable); the definition of each version is immutable.
 */
export const ToolSchema = ToolDefinitionSchema.extend({
  id: z.string().uuid(),
  project_id: z.string().uuid(),
  version: z.number().int().min(1),
  /** ISO 8601. */
  created_at: z.string(),
  /** ISO 8601. */
  updated_at: z.string(),
});
export type Tool = z.infer<typeof ToolSchema>;

/**
 * Request of `rpc.registry.tool.get.v1`: one live tool of the project, by `toolId` (management)
 * or by `name` (data plane), exactly one of the two. Disabled tools are returned too, so the
 * gateway can answer "Tool not enabled for this project". Never includes the secret.
 */
export const GetToolRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    toolId: z.string().uuid().optional(),
    name: ToolNameSchema.optional(),
  })
  .strict()
  .refine((request) => (request.toolId === undefined) !== (request.name === undefined), {
    message: 'give exactly one of toolId or name',
  });
export type GetToolRequest = z.infer<typeof GetToolRequestSchema>;

/**
 * Request of `rpc.registry.tool.list.v1`, the data plane's list: the tools a principal may see,
 * i.e. enabled ones whose `required_scope` is among `scopes` (or unset), and `require_member` tools
 * only when `isMember`. The gateway fills all three from the authenticated principal.
 */
export const ListVisibleToolsRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    scopes: z.array(ScopeSchema).max(32),
    isMember: z.boolean(),
  })
  .strict();
export type ListVisibleToolsRequest = z.infer<typeof ListVisibleToolsRequestSchema>;

/**
 * Reply of `rpc.registry.tool.list.v1`, sorted by name. `toolListVersion` is the project's
 * tool-list version: it grows by one in the same transaction as every tool change of the project
 * (and is announced by `evt.registry.tool.changed.v1`), so a cache keyed by
 * (projectId, toolListVersion) is never stale once it has seen the latest event.
 */
export const VisibleToolListSchema = z.object({
  toolListVersion: z.number().int().min(0),
  tools: z.array(ToolSchema),
});
export type VisibleToolList = z.infer<typeof VisibleToolListSchema>;

/**
 * Request of `rpc.registry.tool.list-all.v1` (`GET /api/v1/custom-tools`): every live tool of the
 * project, enabled or not, sorted by name, a page at a time.
 */
export const ListToolsRequestSchema = z
  .object({ projectId: z.string().uuid(), ...PageRequestShape })
  .strict();
export type ListToolsRequest = z.infer<typeof ListToolsRequestSchema>;

/** Reply of `rpc.registry.tool.list-all.v1`; `next_cursor` is null on the last page. */
export const ToolPageSchema = z.object({
  items: z.array(ToolSchema),
  next_cursor: z.string().nullable(),
  /** The project's tool-list version when the page was read. */
  toolListVersion: z.number().int().min(0),
});
export type ToolPage = z.infer<typeof ToolPageSchema>;

/** Reply of `rpc.registry.tool.delete.v1`. */
export const ToolDeletedReplySchema = z.object({
  deleted: z.literal(true),
  id: z.string().uuid(),
  /** The version the deletion was recorded as. */
  version: z.number().int().min(1),
});
export type ToolDeletedReply = z.infer<typeof ToolDeletedReplySchema>;

/**
 * Request of `rpc.registry.tool.resolve.v1`: a tool by name at `version` (default: current), WITH
 * its decrypted secret, for the executor only.
 *
 * WARNING: this is the one subject that returns plaintext secrets. NATS permissions must allow
 * publishing to it only to the executor's user (and the registry's to answer it); the gateway and
 * every other client must be denied. Never log its replies.
 */
export const ResolveToolRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    name: ToolNameSchema,
    version: z.number().int().min(1).optional(),
  })
  .strict();
export type ResolveToolRequest = z.infer<typeof ResolveToolRequestSchema>;

/**
 * Reply of `rpc.registry.tool.resolve.v1`: the immutable definition at the asked version (with
 * `is_enabled` as it was then), the tool's current state, and the plaintext secret or null. A
 * secret that cannot be decrypted fails with `REGISTRY_SECRET_DECRYPT_FAILED`.
 */
export const ResolvedToolSchema = z.object({
  tool: ToolSchema,
  currentVersion: z.number().int().min(1),
  /** Whether the tool is enabled now (the caller refuses calls to a disabled tool). */
  enabledNow: z.boolean(),
  secret: z.string().nullable(),
});
export type ResolvedTool = z.infer<typeof ResolvedToolSchema>;

/**
 * Largest OpenAPI document an import accepts, in bytes of its JSON-encoded text (as it travels in
 * an HTTP body and a NATS message, whose default limit is 1 MiB).
 */
export const OPENAPI_DOCUMENT_MAX_BYTES = 768 * 1024;

const utf8 = new TextEncoder();
/** Most operations one import creates; the rest are reported as skipped. */
export const OPENAPI_IMPORT_MAX_TOOLS = 100;

/**
 * Request of `rpc.registry.tool.import.v1` (`POST /api/v1/custom-tools/import`): one tool per
 * operation of an OpenAPI 3.0/3.1 document (JSON or YAML text). `$ref`s are resolved inside the
 * document only (never fetched); recursive schemas are cut where they repeat. Imported tools are
 * disabled unless `is_enabled` is true, so nothing reaches a model before a human looks. The
 * server URL's path (if any) prefixes every `endpoint_path`; `base_url` gives the origin.
 */
export const ImportToolsRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    document: z
      .string()
      .min(1)
      .refine(
        (document) => utf8.encode(JSON.stringify(document)).length <= OPENAPI_DOCUMENT_MAX_BYTES,
        `must be at most ${OPENAPI_DOCUMENT_MAX_BYTES} bytes once JSON-encoded; import the document in parts`,
      ),
    base_url: z.string().min(1).max(TOOL_LIMITS.urlMaxLength),
    dry_run: z.boolean().default(false),
    is_enabled: z.boolean().default(false),
    /** Applied to every imported tool (each gets its own encrypted copy of the secret). */
    auth_strategy: AuthStrategySchema.default('none'),
    encrypted_auth_secret: ToolFieldsShape.encrypted_auth_secret.optional(),
  })
  .strict();
export type ImportToolsRequest = z.infer<typeof ImportToolsRequestSchema>;

/** One tool an import created (or, in a dry run, would create). */
export const ImportedToolSchema = z.object({
  /** The operation it came from, e.g. `GET /pets/{petId}`. */
  operation: z.string(),
  /** Null in a dry run. */
  id: z.string().uuid().nullable(),
  /** Null in a dry run. */
  version: z.number().int().min(1).nullable(),
  definition: ToolDefinitionSchema,
});
export type ImportedTool = z.infer<typeof ImportedToolSchema>;

/** An operation an import left out, and why. */
export const SkippedOperationSchema = z.object({
  operation: z.string(),
  reason: z.string(),
});
export type SkippedOperation = z.infer<typeof SkippedOperationSchema>;

/** Reply of `rpc.registry.tool.import.v1`. All tools are created in one transaction or none. */
export const ImportToolsReplySchema = z.object({
  dry_run: z.boolean(),
  created: z.array(ImportedToolSchema),
  skipped: z.array(SkippedOperationSchema),
});
export type ImportToolsReply = z.infer<typeof ImportToolsReplySchema>;

// ---------------------------------------------------------------------------------------------
// Subjects and events
// ---------------------------------------------------------------------------------------------

export const REGISTRY_SUBJECTS = {
  statusGet: 'rpc.registry.status.get.v1',
  projectCreate: 'rpc.registry.project.create.v1',
  projectList: 'rpc.registry.project.list.v1',
  projectGet: 'rpc.registry.project.get.v1',
  integrationCreate: 'rpc.registry.integration.create.v1',
  integrationList: 'rpc.registry.integration.list.v1',
  integrationGet: 'rpc.registry.integration.get.v1',
  integrationDelete: 'rpc.registry.integration.delete.v1',
  toolCreate: 'rpc.registry.tool.create.v1',
  toolUpdate: 'rpc.registry.tool.update.v1',
  toolPatch: 'rpc.registry.tool.patch.v1',
  toolDelete: 'rpc.registry.tool.delete.v1',
  toolEnable: 'rpc.registry.tool.enable.v1',
  toolDisable: 'rpc.registry.tool.disable.v1',
  toolGet: 'rpc.registry.tool.get.v1',
  toolList: 'rpc.registry.tool.list.v1',
  toolListAll: 'rpc.registry.tool.list-all.v1',
  /** Returns plaintext secrets: executor only (see {@link ResolveToolRequestSchema}). */
  toolResolve: 'rpc.registry.tool.resolve.v1',
  toolImport: 'rpc.registry.tool.import.v1',
  /** Event: a tool was created, updated, enabled, disabled or deleted. */
  toolChanged: 'evt.registry.tool.changed.v1',
  /** Event: an integration was deleted. */
  integrationDeleted: 'evt.registry.integration.deleted.v1',
} as const;

export const REGISTRY_RPC = {
  [REGISTRY_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [REGISTRY_SUBJECTS.projectCreate]: rpc(CreateProjectRequestSchema, ProjectSchema),
  [REGISTRY_SUBJECTS.projectList]: rpc(ListProjectsRequestSchema, ProjectPageSchema),
  [REGISTRY_SUBJECTS.projectGet]: rpc(ProjectRefSchema, ProjectSchema),
  [REGISTRY_SUBJECTS.integrationCreate]: rpc(CreateIntegrationRequestSchema, IntegrationSchema),
  [REGISTRY_SUBJECTS.integrationList]: rpc(ProjectRefSchema, IntegrationListSchema),
  [REGISTRY_SUBJECTS.integrationGet]: rpc(IntegrationRefSchema, IntegrationSchema),
  [REGISTRY_SUBJECTS.integrationDelete]: rpc(IntegrationRefSchema, IntegrationDeletedReplySchema),
  [REGISTRY_SUBJECTS.toolCreate]: rpc(CreateToolRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolUpdate]: rpc(UpdateToolRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolPatch]: rpc(PatchToolRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolDelete]: rpc(ToolCommandRequestSchema, ToolDeletedReplySchema),
  [REGISTRY_SUBJECTS.toolEnable]: rpc(ToolCommandRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolDisable]: rpc(ToolCommandRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolGet]: rpc(GetToolRequestSchema, ToolSchema),
  [REGISTRY_SUBJECTS.toolList]: rpc(ListVisibleToolsRequestSchema, VisibleToolListSchema),
  [REGISTRY_SUBJECTS.toolListAll]: rpc(ListToolsRequestSchema, ToolPageSchema),
  [REGISTRY_SUBJECTS.toolResolve]: rpc(ResolveToolRequestSchema, ResolvedToolSchema),
  [REGISTRY_SUBJECTS.toolImport]: rpc(ImportToolsRequestSchema, ImportToolsReplySchema),
} as const;

/** What happened to a tool. */
export const TOOL_CHANGES = ['created', 'updated', 'enabled', 'disabled', 'deleted'] as const;
export type ToolChange = (typeof TOOL_CHANGES)[number];

/**
 * Payload of `evt.registry.tool.changed.v1`, published after every committed tool change. Gateways
 * drop cached tool lists of `projectId` older than `toolListVersion` and tell open MCP sessions
 * `notifications/tools/list_changed`; executors drop cached definitions of `toolId`. Core NATS
 * delivers at most once, so caches also expire on their own.
 */
export const ToolChangedEventSchema = z.object({
  projectId: z.string().uuid(),
  toolId: z.string().uuid(),
  toolName: z.string(),
  /** The tool's version after the change. */
  version: z.number().int().min(1),
  change: z.enum(TOOL_CHANGES),
  /** The project's tool-list version after the change. */
  toolListVersion: z.number().int().min(1),
});
export type ToolChangedEvent = z.infer<typeof ToolChangedEventSchema>;

/**
 * Payload of `evt.registry.integration.deleted.v1`, for consumers that track integrations. Identity
 * does not revoke the integration's API keys on it: they keep working for tools, and minting
 * session tokens with them answers the reference's `400 API key missing project or integration`.
 */
export const IntegrationDeletedEventSchema = z.object({
  projectId: z.string().uuid(),
  integrationId: z.string().uuid(),
});
export type IntegrationDeletedEvent = z.infer<typeof IntegrationDeletedEventSchema>;

/** The registry's event subjects alone (they are in {@link REGISTRY_SUBJECTS} too). */
export const REGISTRY_EVENT_SUBJECTS = {
  toolChanged: REGISTRY_SUBJECTS.toolChanged,
  integrationDeleted: REGISTRY_SUBJECTS.integrationDeleted,
} as const;

/** Events the registry publishes (fan-out to every gateway and executor replica). */
export const REGISTRY_EVENTS = {
  [REGISTRY_SUBJECTS.toolChanged]: ToolChangedEventSchema,
  [REGISTRY_SUBJECTS.integrationDeleted]: IntegrationDeletedEventSchema,
} as const;
