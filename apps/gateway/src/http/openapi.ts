import { z } from 'zod';

import {
  ApiKeyViewSchema,
  AssertionKeyViewSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  CreateIntegrationRequestSchema,
  CreateProjectRequestSchema,
  CreateToolRequestSchema,
  ImportToolsReplySchema,
  ImportToolsRequestSchema,
  IntegrationDeletedReplySchema,
  IntegrationListSchema,
  IntegrationSchema,
  JwksSchema,
  MintedSessionSchema,
  PatchToolRequestSchema,
  ProjectPageSchema,
  ProjectSchema,
  RegisterAssertionKeyRequestSchema,
  RunPageSchema,
  RunViewSchema,
  ServiceStatusSchema,
  ToolDeletedReplySchema,
  ToolPageSchema,
  ToolSchema,
  UpdateToolRequestSchema,
  UsageReportSchema,
  type Scope,
} from '@tengine/contracts';

/** One documented management route. */
export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, e.g. `/api/v1/custom-tools/{toolId}`. */
  readonly path: string;
  readonly summary: string;
  /** `public`, `admin` (platform admin token only) or the scope a project credential needs. */
  readonly auth: 'public' | 'admin' | 'project' | Scope;
  readonly body?: z.ZodType;
  readonly status: number;
  readonly response: z.ZodType;
  readonly query?: readonly string[];
  /** Only a project API key, never the admin token. */
  readonly apiKeyOnly?: boolean;
}

const ErrorBody = z.object({
  detail: z.union([z.string(), z.array(z.object({ path: z.string(), message: z.string() }))]),
  code: z.string(),
  fix: z.string(),
  request_id: z.string(),
});

/** Every management route of the gateway, documented from the same zod contracts the services validate with. */
export const MANAGEMENT_ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/status',
    summary: 'Version and schema state of every service',
    auth: 'public',
    status: 200,
    response: z.object({
      status: z.string(),
      services: z.record(z.string(), ServiceStatusSchema.partial()),
    }),
  },
  {
    method: 'post',
    path: '/api/v1/projects',
    summary: 'Create a project',
    auth: 'admin',
    body: CreateProjectRequestSchema,
    status: 201,
    response: ProjectSchema,
  },
  {
    method: 'get',
    path: '/api/v1/projects',
    summary: 'List projects',
    auth: 'admin',
    status: 200,
    response: ProjectPageSchema,
    query: ['cursor', 'limit'],
  },
  {
    method: 'get',
    path: '/api/v1/projects/{projectId}',
    summary: 'Read a project',
    auth: 'admin',
    status: 200,
    response: ProjectSchema,
  },
  {
    method: 'post',
    path: '/api/v1/integrations',
    summary: 'Create an integration (an MCP client connection)',
    auth: 'keys:write',
    body: CreateIntegrationRequestSchema.omit({ projectId: true }),
    status: 201,
    response: IntegrationSchema,
  },
  {
    method: 'get',
    path: '/api/v1/integrations',
    summary: "List the project's integrations",
    auth: 'project',
    status: 200,
    response: IntegrationListSchema,
  },
  {
    method: 'get',
    path: '/api/v1/integrations/{integrationId}',
    summary: 'Read an integration',
    auth: 'project',
    status: 200,
    response: IntegrationSchema,
  },
  {
    method: 'delete',
    path: '/api/v1/integrations/{integrationId}',
    summary: 'Delete an integration',
    auth: 'keys:write',
    status: 200,
    response: IntegrationDeletedReplySchema,
  },
  {
    method: 'post',
    path: '/api/v1/integrations/{integrationId}/api-keys',
    summary: 'Create a project API key (shown once)',
    auth: 'keys:write',
    body: CreateApiKeyRequestSchema.omit({ projectId: true, integrationId: true }),
    status: 201,
    response: CreatedApiKeySchema,
  },
  {
    method: 'get',
    path: '/api/v1/api-keys',
    summary: "List the project's API keys (never the keys)",
    auth: 'keys:write',
    status: 200,
    response: z.object({ items: z.array(ApiKeyViewSchema) }),
  },
  {
    method: 'delete',
    path: '/api/v1/api-keys/{keyId}',
    summary: 'Revoke an API key and every session minted with it',
    auth: 'keys:write',
    status: 200,
    response: ApiKeyViewSchema,
  },
  {
    method: 'post',
    path: '/api/v1/assertion-keys',
    summary: 'Register a public key for member assertions',
    auth: 'keys:write',
    body: RegisterAssertionKeyRequestSchema.omit({ projectId: true }),
    status: 201,
    response: AssertionKeyViewSchema,
  },
  {
    method: 'get',
    path: '/api/v1/assertion-keys',
    summary: 'List assertion keys',
    auth: 'keys:write',
    status: 200,
    response: z.object({ items: z.array(AssertionKeyViewSchema) }),
  },
  {
    method: 'post',
    path: '/api/v1/assertion-keys/{assertionKeyId}/deactivate',
    summary: 'Deactivate an assertion key',
    auth: 'keys:write',
    status: 200,
    response: AssertionKeyViewSchema,
  },
  {
    method: 'post',
    path: '/api/v1/mcp/session-token',
    summary: 'Mint a member session token from a member assertion',
    auth: 'sessions:mint',
    body: z.object({
      member_assertion: z.string().optional(),
      member_external_id: z.string().optional(),
    }),
    status: 200,
    response: MintedSessionSchema,
    apiKeyOnly: true,
  },
  {
    method: 'delete',
    path: '/api/v1/mcp/sessions/{sessionId}',
    summary: 'Revoke one member session token',
    auth: 'keys:write',
    status: 200,
    response: z.object({ revoked: z.literal(true) }),
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: "Identity's public keys for session tokens",
    auth: 'public',
    status: 200,
    response: JwksSchema,
  },
  {
    method: 'post',
    path: '/api/v1/custom-tools',
    summary: 'Register a custom tool',
    auth: 'tools:write',
    body: CreateToolRequestSchema.omit({ projectId: true }),
    status: 201,
    response: ToolSchema,
  },
  {
    method: 'post',
    path: '/api/v1/custom-tools/import',
    summary: 'Import tools from an OpenAPI 3.0/3.1 document',
    auth: 'tools:write',
    body: ImportToolsRequestSchema.omit({ projectId: true }),
    status: 200,
    response: ImportToolsReplySchema,
  },
  {
    method: 'get',
    path: '/api/v1/custom-tools',
    summary: "List the project's tools",
    auth: 'tools:write',
    status: 200,
    response: ToolPageSchema,
    query: ['cursor', 'limit'],
  },
  {
    method: 'get',
    path: '/api/v1/custom-tools/{toolId}',
    summary: 'Read a tool (never its secret)',
    auth: 'tools:write',
    status: 200,
    response: ToolSchema,
  },
  {
    method: 'put',
    path: '/api/v1/custom-tools/{toolId}',
    summary: 'Replace a tool definition',
    auth: 'tools:write',
    body: UpdateToolRequestSchema.omit({ projectId: true, toolId: true }),
    status: 200,
    response: ToolSchema,
  },
  {
    method: 'patch',
    path: '/api/v1/custom-tools/{toolId}',
    summary: 'Change some fields of a tool',
    auth: 'tools:write',
    body: PatchToolRequestSchema.omit({ projectId: true, toolId: true }),
    status: 200,
    response: ToolSchema,
  },
  {
    method: 'delete',
    path: '/api/v1/custom-tools/{toolId}',
    summary: 'Delete a tool',
    auth: 'tools:write',
    status: 200,
    response: ToolDeletedReplySchema,
    query: ['expected_version'],
  },
  {
    method: 'post',
    path: '/api/v1/custom-tools/{toolId}/enable',
    summary: 'Enable a tool',
    auth: 'tools:write',
    status: 200,
    response: ToolSchema,
    query: ['expected_version'],
  },
  {
    method: 'post',
    path: '/api/v1/custom-tools/{toolId}/disable',
    summary: 'Disable a tool',
    auth: 'tools:write',
    status: 200,
    response: ToolSchema,
    query: ['expected_version'],
  },
  {
    method: 'get',
    path: '/api/v1/runs',
    summary: 'Run history, newest first, with filters',
    auth: 'runs:read',
    status: 200,
    response: RunPageSchema,
    query: [
      'tool',
      'member',
      'member_external_id',
      'status',
      'from',
      'to',
      'key',
      'integration',
      'cursor',
      'limit',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/runs/{runId}',
    summary: 'One Run',
    auth: 'runs:read',
    status: 200,
    response: RunViewSchema,
  },
  {
    method: 'get',
    path: '/api/v1/usage',
    summary: 'Counts, error rates and latency per tool, member, integration and day',
    auth: 'runs:read',
    status: 200,
    response: UsageReportSchema,
    query: ['from', 'to'],
  },
];

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** The OpenAPI 3.1 document of the management API. */
export function managementOpenApi(
  routes: readonly RouteDoc[] = MANAGEMENT_ROUTES,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(route.query ?? []).map((name) => ({
        name,
        in: 'query',
        required: false,
        schema: { type: 'string' },
      })),
      ...(route.auth === 'public' || route.auth === 'admin'
        ? []
        : [
            {
              name: 'X-Project-Id',
              in: 'header',
              required: false,
              description: 'With the admin token: the project to act on.',
              schema: { type: 'string', format: 'uuid' },
            },
          ]),
    ];
    const security = route.auth === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }];
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = {
      summary: route.summary,
      description:
        route.auth === 'public'
          ? 'No authentication.'
          : route.auth === 'admin'
            ? 'Platform admin token only.'
            : route.auth === 'project'
              ? 'Any project API key (or the admin token with X-Project-Id).'
              : route.apiKeyOnly
                ? `Project API key with scope \`${route.auth}\` (the admin token cannot).`
                : `Project API key with scope \`${route.auth}\` (or the admin token with X-Project-Id).`,
      parameters,
      security,
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses: {
        [String(route.status)]: {
          description: 'Success',
          content: { 'application/json': { schema: jsonSchema(route.response) } },
        },
        default: {
          description: 'Error: detail (the reference text), code, fix, request_id',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tengine management API',
      version: '0.1.0',
      description:
        'Projects, integrations, credentials and custom tools. The MCP endpoint is POST/GET/DELETE /mcp.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Admin token, project API key (tengine_…) or member session token (tng_mst_…)',
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Error: jsonSchema(ErrorBody) },
    },
  };
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A self-contained reference page (no external scripts), rendered from the same route table. */
export function managementDocsPage(routes: readonly RouteDoc[] = MANAGEMENT_ROUTES): string {
  const rows = routes
    .map(
      (route) =>
        `<tr><td><code>${route.method.toUpperCase()}</code></td><td><code>${escape(route.path)}</code></td><td>${escape(route.summary)}</td><td>${escape(route.auth)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tengine management API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}code{font-size:.9em}</style>
</head><body>
<h1>tengine management API</h1>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> or <code>X-API-Key</code>. Errors carry <code>detail</code>, <code>code</code>, <code>fix</code> and <code>request_id</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Who</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>`;
}
