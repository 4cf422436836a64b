import {
  JSONRPCMessageSchema,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
  type JSONRPCMessage,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { credentialFromHeaders } from '@tengine/auth';
import {
  DomainError,
  IdempotencyKeySchema,
  type Principal,
  type ProjectPrincipal,
  type Tool,
} from '@tengine/contracts';
import type { Logger } from '@tengine/telemetry';

import type { Authenticator } from '../auth/authenticator.js';
import { httpErrorFor } from '../http/error-catalog.js';
import { ConcurrencyLimiter } from './limits.js';
import {
  ErrorCode,
  isRequest,
  nestingDepth,
  rpcErrorBody,
  type JsonRpcRequest,
} from './json-rpc.js';
import { issueSessionId, sessionBelongsTo } from './mcp-session-id.js';
import { ServerTiming } from './server-timing.js';
import type { StreamRegistry } from './streams.js';
import { ToolCatalog } from './tool-catalog.js';

/** Executes one validated tool call and shapes the MCP result (see tool-caller.ts). */
export interface ToolCaller {
  call(
    principal: ProjectPrincipal,
    tool: Tool,
    args: Record<string, unknown>,
    context: {
      readonly requestId: string | number;
      readonly idempotencyKey: string | undefined;
      /** Collects the executor's share of the time, when the response reports it. */
      readonly timing?: ServerTiming | undefined;
    },
  ): Promise<CallToolResult>;
}

/** Limits and settings of the MCP endpoint. */
export interface McpOptions {
  /** Origins allowed to call from a browser; requests without `Origin` are always allowed. */
  readonly allowedOrigins: readonly string[];
  readonly maxStreams: number;
  readonly perPrincipalConcurrency: number;
  readonly perProjectConcurrency: number;
  readonly pageSize: number;
  readonly maxJsonDepth: number;
}

const SERVER_INFO = { name: 'tengine', version: '0.1.0' };
const SESSION_HEADER = 'mcp-session-id';
const NOT_ENABLED =
  '403 Forbidden: Tool not enabled for this project — confirm is_enabled = true for the tool (and that your credential may see it)';
const MEMBER_REQUIRED =
  '403 Forbidden: Member context required — this tool has require_member: true; call it with a member session token (tng_mst_...)';

function toolResultError(text: string, code: string): CallToolResult {
  return {
    content: [{ type: 'text', text }],
    isError: true,
    _meta: { 'io.tengine/error_code': code },
  };
}

/** A tool as MCP clients see it: reserved variables never appear (the registry forbids them in schemas). */
export function toMcpTool(tool: Tool): McpTool {
  const { title, ...hints } = tool.annotations;
  return {
    name: tool.name,
    ...(title ? { title } : {}),
    description: tool.description,
    inputSchema: { type: 'object', ...tool.input_schema },
    ...(Object.keys(hints).length > 0
      ? { annotations: { ...(title ? { title } : {}), ...hints } }
      : {}),
  };
}

function negotiate(requested: unknown): string {
  return typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : LATEST_PROTOCOL_VERSION;
}

/**
 * The client's idempotency key (the `Idempotency-Key` header, or `_meta` of the call): the key,
 * `undefined` when none was given, or `null` when one was given but is not a valid key.
 */
function idempotencyKeyOf(
  request: FastifyRequest,
  params: Record<string, unknown> | undefined,
): string | null | undefined {
  const meta = params?.['_meta'];
  const fromMeta =
    typeof meta === 'object' && meta !== null
      ? ((meta as Record<string, unknown>)['io.tengine/idempotency-key'] ??
        (meta as Record<string, unknown>)['idempotencyKey'])
      : undefined;
  const given = request.headers['idempotency-key'] ?? fromMeta;
  if (given === undefined) return undefined;
  const parsed = IdempotencyKeySchema.safeParse(given);
  return parsed.success ? parsed.data : null;
}

/** Drops the Content-Type of a request without a body, so that no body parser runs on it. */
function ignoreEmptyBodyType(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: () => void,
): void {
  const length = request.headers['content-length'];
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) delete request.headers['content-type'];
  done();
}

/**
 * The MCP endpoint, Streamable HTTP, stateless across replicas: every request is authenticated,
 * any replica serves any request, session ids are verifiable anywhere and bound to the principal.
 * Requests are answered as JSON; GET opens an SSE stream for `notifications/tools/list_changed`.
 */
export class McpEndpoint {
  private readonly principalLimiter: ConcurrencyLimiter;
  private readonly projectLimiter: ConcurrencyLimiter;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly catalog: ToolCatalog,
    private readonly streams: StreamRegistry,
    private readonly caller: ToolCaller,
    private readonly options: McpOptions,
    private readonly logger: Logger,
  ) {
    this.principalLimiter = new ConcurrencyLimiter(options.perPrincipalConcurrency);
    this.projectLimiter = new ConcurrencyLimiter(options.perProjectConcurrency);
  }

  register(fastify: FastifyInstance): void {
    // Bodies are read before the handler runs: their refusals are JSON-RPC errors too.
    const errorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void this.refuseBody(error, request, reply);
    };
    for (const url of ['/mcp', '/:projectId/mcp']) {
      fastify.post(url, { errorHandler }, (request, reply) => this.handlePost(request, reply));
      fastify.get(url, (request, reply) => this.handleGet(request, reply));
      // DELETE carries nothing: a client that labels its empty body JSON must not get a parse error.
      fastify.delete(url, { onRequest: ignoreEmptyBodyType }, (request, reply) =>
        this.handleDelete(request, reply),
      );
    }
  }

  /** Checks shared by every method; on refusal the reply is sent and undefined returned. */
  private async admit(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ principal: ProjectPrincipal; sessionId: string | undefined } | undefined> {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.options.allowedOrigins.includes(origin)) {
      await reply.status(403).send(
        rpcErrorBody(-32000, `Forbidden: Origin ${origin} is not allowed`, {
          fix: 'Add the origin to TENGINE_MCP_ALLOWED_ORIGINS.',
        }),
      );
      return undefined;
    }
    const version = request.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      await reply
        .status(400)
        .send(
          rpcErrorBody(
            -32000,
            `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
          ),
        );
      return undefined;
    }
    const credential = credentialFromHeaders(request.headers);
    let principal: Principal;
    try {
      if (credential === undefined)
        throw new DomainError('IDENTITY_CREDENTIAL_MISSING', 'Missing credentials');
      if (credential === null)
        throw new DomainError('IDENTITY_INVALID_CREDENTIAL', 'Invalid or inactive credential');
      principal = await this.authenticator.authenticate(credential);
    } catch (error) {
      await this.refuse(request, reply, error);
      return undefined;
    }
    if (principal.kind === 'admin') {
      await this.refuse(
        request,
        reply,
        new DomainError(
          'IDENTITY_SCOPE_MISSING',
          'The admin token cannot call tools; use a project API key or a member session token',
        ),
      );
      return undefined;
    }
    if (!principal.scopes.includes('mcp:connect')) {
      await this.refuse(
        request,
        reply,
        new DomainError(
          'IDENTITY_SCOPE_MISSING',
          'API key is missing the required scope: mcp:connect',
        ),
      );
      return undefined;
    }
    const pathProject = (request.params as { projectId?: string }).projectId;
    if (pathProject !== undefined && pathProject !== principal.projectId) {
      await reply.status(404).send(
        rpcErrorBody(-32001, 'Not found', {
          fix: 'Use /mcp, or the project id your credential belongs to.',
        }),
      );
      return undefined;
    }
    const sessionHeader = request.headers[SESSION_HEADER];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
    if (sessionId !== undefined && !sessionBelongsTo(sessionId, principal)) {
      await reply
        .status(404)
        .send(rpcErrorBody(-32001, 'Session not found', { fix: 'Initialize a new MCP session.' }));
      return undefined;
    }
    return { principal, sessionId };
  }

  private async refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    error: unknown,
  ): Promise<void> {
    if (!(error instanceof DomainError)) {
      this.logger.error({ err: error, request_id: request.id }, 'MCP request failed');
      await reply
        .status(500)
        .send(rpcErrorBody(ErrorCode.InternalError, 'Internal error', { request_id: request.id }));
      return;
    }
    const spec = httpErrorFor(error.code);
    if (spec.status === 401) {
      const invalid = error.code === 'IDENTITY_CREDENTIAL_MISSING' ? '' : ', error="invalid_token"';
      void reply.header('WWW-Authenticate', `Bearer realm="tengine"${invalid}`);
    }
    await reply.status(spec.status).send(
      rpcErrorBody(spec.status === 401 ? -32001 : -32000, error.message, {
        code: error.code,
        fix: spec.fix,
        request_id: request.id,
      }),
    );
  }

  /** A body fastify could not read: too large, of another media type, not JSON, or poisoned. */
  private async refuseBody(
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      this.logger.error({ err: error, request_id: request.id }, 'MCP request failed');
      await reply
        .status(500)
        .send(rpcErrorBody(ErrorCode.InternalError, 'Internal error', { request_id: request.id }));
      return;
    }
    const [code, message] =
      status === 413
        ? [ErrorCode.InvalidRequest, 'Payload Too Large: the body exceeds the size limit']
        : status === 415
          ? [-32000, 'Unsupported Media Type: Content-Type must be application/json']
          : [
              ErrorCode.ParseError,
              'Parse error: the body is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key',
            ];
    await reply.status(status).send(rpcErrorBody(code, message, { request_id: request.id }));
  }

  private async handlePost(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // Before the handler: routing, reading and JSON-parsing the body.
    const received = reply.elapsedTime;
    const authenticating = performance.now();
    const admitted = await this.admit(request, reply);
    if (!admitted) return;
    const checking = performance.now();
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      await reply
        .status(415)
        .send(
          rpcErrorBody(-32000, 'Unsupported Media Type: Content-Type must be application/json'),
        );
      return;
    }
    const accept = request.headers.accept ?? '*/*';
    if (!/application\/json|\*\/\*|application\/\*/.test(accept)) {
      await reply
        .status(406)
        .send(rpcErrorBody(-32000, 'Not Acceptable: Client must accept application/json'));
      return;
    }
    const body: unknown = request.body;
    if (nestingDepth(body, this.options.maxJsonDepth) > this.options.maxJsonDepth) {
      await reply
        .status(400)
        .send(
          rpcErrorBody(
            ErrorCode.InvalidRequest,
            `Invalid Request: JSON nested deeper than ${this.options.maxJsonDepth} levels`,
          ),
        );
      return;
    }
    const batch = Array.isArray(body);
    if (batch && body.length === 0) {
      await reply
        .status(400)
        .send(rpcErrorBody(ErrorCode.InvalidRequest, 'Invalid Request: an empty batch'));
      return;
    }
    const items: unknown[] = batch ? body : [body];
    const messages: JSONRPCMessage[] = [];
    for (const item of items) {
      const parsed = JSONRPCMessageSchema.safeParse(item);
      if (!parsed.success) {
        await reply
          .status(400)
          .send(
            rpcErrorBody(ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message'),
          );
        return;
      }
      messages.push(parsed.data);
    }
    const requests = messages.filter(isRequest);
    if (requests.length === 0) {
      await reply.status(202).send();
      return;
    }
    // Timed when the request is one tool call (a batch has no single timeline).
    let timing: ServerTiming | undefined;
    if (!batch && requests[0]?.method === 'tools/call') {
      timing = new ServerTiming();
      timing.add('gw-parse', received + performance.now() - checking);
      timing.add('gw-auth', checking - authenticating);
    }
    const initializing = requests.some((message) => message.method === 'initialize');
    const sessionId = initializing ? issueSessionId(admitted.principal) : admitted.sessionId;
    const answers = await Promise.all(
      requests.map((message) => this.dispatch(message, admitted.principal, request, timing)),
    );
    if (sessionId) void reply.header('mcp-session-id', sessionId);
    const limited = answers.find((answer) => 'retryAfter' in answer);
    if (limited && !batch && 'retryAfter' in limited) {
      void reply.header('Retry-After', String(limited.retryAfter));
      await reply.status(429).send(limited.body);
      return;
    }
    const bodies = answers.map((answer) => answer.body);
    if (timing) {
      timing.add('gw-total', reply.elapsedTime);
      void reply.header('server-timing', timing.header());
    }
    await reply
      .status(200)
      .header('content-type', 'application/json')
      .send(batch ? bodies : bodies[0]);
  }

  private async dispatch(
    message: JsonRpcRequest,
    principal: ProjectPrincipal,
    request: FastifyRequest,
    timing?: ServerTiming,
  ): Promise<
    { body: Record<string, unknown> } | { body: Record<string, unknown>; retryAfter: number }
  > {
    const ok = (result: unknown) => ({ body: { jsonrpc: '2.0', id: message.id, result } });
    const fail = (code: number, text: string) => ({
      body: { jsonrpc: '2.0', id: message.id, error: { code, message: text } },
    });
    const params = (message.params ?? {}) as Record<string, unknown>;
    try {
      switch (message.method) {
        case 'initialize':
          return ok({
            protocolVersion: negotiate(params['protocolVersion']),
            capabilities: { tools: { listChanged: true } },
            serverInfo: SERVER_INFO,
            instructions:
              'Tools are HTTP APIs of this tengine project; every call is recorded as a Run.',
          });
        case 'ping':
          return ok({});
        case 'tools/list':
          return ok(await this.listTools(principal, params['cursor']));
        case 'tools/call': {
          const name = params['name'];
          const args = params['arguments'] ?? {};
          if (
            typeof name !== 'string' ||
            typeof args !== 'object' ||
            args === null ||
            Array.isArray(args)
          ) {
            return fail(
              ErrorCode.InvalidParams,
              'Invalid params: tools/call needs a string name and an object of arguments',
            );
          }
          const releasePrincipal = this.principalLimiter.acquire(
            `${principal.keyId}:${principal.kind === 'member_session' ? principal.memberId : ''}`,
          );
          const releaseProject = releasePrincipal
            ? this.projectLimiter.acquire(principal.projectId)
            : undefined;
          if (!releasePrincipal || !releaseProject) {
            releasePrincipal?.();
            return {
              ...fail(
                -32029,
                'Too many concurrent tool calls for this credential or project; retry after a moment',
              ),
              retryAfter: 1,
            };
          }
          try {
            const idempotencyKey = idempotencyKeyOf(request, params);
            if (idempotencyKey === null) {
              return ok(
                toolResultError(
                  '400 Bad Request: Idempotency-Key must be 1-200 visible ASCII characters without spaces — send a valid key or none',
                  'INVALID_IDEMPOTENCY_KEY',
                ),
              );
            }
            return ok(
              await this.callTool(
                principal,
                name,
                args as Record<string, unknown>,
                message.id,
                idempotencyKey,
                timing,
              ),
            );
          } finally {
            releaseProject();
            releasePrincipal();
          }
        }
        default:
          return fail(ErrorCode.MethodNotFound, `Method not found: ${message.method}`);
      }
    } catch (error) {
      const code = error instanceof DomainError ? error.code : 'INTERNAL';
      if (!(error instanceof DomainError))
        this.logger.error({ err: error, request_id: request.id }, 'MCP dispatch failed');
      const spec = httpErrorFor(error instanceof DomainError ? error.code : 'INTERNAL');
      return fail(
        ErrorCode.InternalError,
        `${spec.status} ${spec.title}: ${error instanceof DomainError ? error.message : 'Internal error'} (${code})`,
      );
    }
  }

  private async listTools(
    principal: ProjectPrincipal,
    cursor: unknown,
  ): Promise<{ tools: McpTool[]; nextCursor?: string }> {
    const project = await this.catalog.project(principal.projectId);
    const visible = project.all.filter((tool) => ToolCatalog.visibleTo(tool, principal));
    const offset = typeof cursor === 'string' && /^\d{1,7}$/.test(cursor) ? Number(cursor) : 0;
    const page = visible.slice(offset, offset + this.options.pageSize);
    const next = offset + page.length;
    return {
      tools: page.map(toMcpTool),
      ...(next < visible.length ? { nextCursor: String(next) } : {}),
    };
  }

  private async callTool(
    principal: ProjectPrincipal,
    name: string,
    args: Record<string, unknown>,
    requestId: string | number,
    idempotencyKey: string | undefined,
    timing?: ServerTiming,
  ): Promise<CallToolResult> {
    const validating = performance.now();
    const project = await this.catalog.project(principal.projectId);
    const tool = project.byName.get(name);
    if (
      !tool ||
      !tool.is_enabled ||
      (tool.required_scope && !principal.scopes.includes(tool.required_scope))
    ) {
      return toolResultError(NOT_ENABLED, 'TOOL_NOT_ENABLED');
    }
    if (tool.require_member && principal.kind !== 'member_session') {
      return toolResultError(MEMBER_REQUIRED, 'MEMBER_CONTEXT_REQUIRED');
    }
    const validate = this.catalog.validator(tool);
    if (!validate(args)) {
      const problems = (validate.errors ?? []).slice(0, 5).map((issue) => {
        const field = issue.instancePath
          ? issue.instancePath.slice(1).replaceAll('/', '.')
          : String(
              issue.params['missingProperty'] ??
                issue.params['additionalProperty'] ??
                '(arguments)',
            );
        return `${field}: ${issue.message ?? 'is invalid'}`;
      });
      return toolResultError(
        `400 Bad Request: Invalid arguments for ${name} — ${problems.join('; ')}. Fix the arguments to match the tool's inputSchema.`,
        'INVALID_ARGUMENTS',
      );
    }
    timing?.add('gw-validate', performance.now() - validating);
    return this.caller.call(principal, tool, args, { requestId, idempotencyKey, timing });
  }

  private async handleGet(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const admitted = await this.admit(request, reply);
    if (!admitted) return;
    if (!(request.headers.accept ?? '').includes('text/event-stream')) {
      await reply
        .status(406)
        .send(rpcErrorBody(-32000, 'Not Acceptable: Client must accept text/event-stream'));
      return;
    }
    reply.hijack();
    if (
      !this.streams.open(
        reply.raw,
        admitted.principal,
        admitted.principal.projectId,
        admitted.sessionId,
      )
    ) {
      reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      reply.raw.end(
        JSON.stringify(
          rpcErrorBody(-32000, 'Too many open streams on this gateway; retry shortly'),
        ),
      );
    }
  }

  private async handleDelete(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const admitted = await this.admit(request, reply);
    if (!admitted) return;
    if (!admitted.sessionId) {
      await reply
        .status(400)
        .send(rpcErrorBody(-32000, 'Bad Request: Mcp-Session-Id header is required'));
      return;
    }
    this.streams.closeSession(admitted.sessionId);
    await reply.status(200).send();
  }
}
