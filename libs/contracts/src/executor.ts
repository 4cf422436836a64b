/**
 * Contracts of the executor: the one RPC that runs a tool call, the Run events it publishes, and
 * the error table of tool-level failures.
 *
 * A tool-level failure (the customer's API timed out, answered 5xx, the idempotency key is busy…)
 * is a normal reply with `status` other than `succeeded` and an `error` carrying the reference's
 * status and detail: the gateway turns it into an MCP result with `isError: true`. Only
 * infrastructure failures (the runs stream did not acknowledge, the registry is unreachable) are
 * thrown as coded `DomainError`s.
 */
import { z } from 'zod';

import { ProjectPrincipalSchema } from './principal.js';
import { ToolNameSchema } from './registry.js';
import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes of the executor. WARNING: persisted in Run records and by clients; never rename one. */
export const EXECUTOR_ERROR_CODES = [
  /** No response within the tool's timeout (reference: 500 `Tool execution timed out`). */
  'EXECUTOR_UPSTREAM_TIMEOUT',
  /** The customer's API answered 4xx/5xx (reference: 502 `… — non-2xx response`). */
  'EXECUTOR_UPSTREAM_NON_2XX',
  /** The customer's API answered 3xx; redirects are never followed (same 502 row). */
  'EXECUTOR_UPSTREAM_REDIRECT',
  /** The customer's API could not be reached (reference: 502 `… — connection error`). */
  'EXECUTOR_UPSTREAM_CONNECTION_ERROR',
  /** The response (after decompression) is larger than the executor accepts. */
  'EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE',
  /** The tool's secret cannot be decrypted or used (reference: 500 `Failed to decrypt auth secret`). */
  'EXECUTOR_SECRET_DECRYPT_FAILED',
  /** The egress policy refused the destination (address range, port or scheme); nothing was sent. */
  'EXECUTOR_EGRESS_DENIED',
  /** Another call with the same idempotency key is being executed right now. */
  'EXECUTOR_IDEMPOTENCY_IN_PROGRESS',
  /** The idempotency key was used before with different arguments. */
  'EXECUTOR_IDEMPOTENCY_KEY_REUSED',
  /** The executor running an earlier call with this key stopped mid-call; the outcome is unknown. */
  'EXECUTOR_RUN_INTERRUPTED',
  /** The tool does not exist (any more), is disabled, or is not visible to the caller. */
  'EXECUTOR_TOOL_UNAVAILABLE',
  /** The tool requires a member session token and was called with a plain API key. */
  'EXECUTOR_MEMBER_REQUIRED',
  /** An argument is named like a reserved variable (`member_id`, `project_id`, `integration_id`). */
  'EXECUTOR_RESERVED_VARIABLE',
  /** The arguments cannot be rendered into a safe request (CR/LF in a header, empty path segment…). */
  'EXECUTOR_RENDER_FAILED',
  /** An unexpected failure inside the executor while calling the API (reference: 500 `Tool execution failed`). */
  'EXECUTOR_EXECUTION_FAILED',
  /** Thrown: the Run's terminal event was not acknowledged by JetStream, so no reply was given. */
  'EXECUTOR_RUN_NOT_RECORDED',
  /** Thrown: the registry did not answer the tool lookup. */
  'EXECUTOR_REGISTRY_UNAVAILABLE',
  /** Thrown: the idempotency ledger (PostgreSQL) could not be read or written before the call; nothing was sent. */
  'EXECUTOR_LEDGER_UNAVAILABLE',
] as const;

/** One of {@link EXECUTOR_ERROR_CODES}. */
export type ExecutorErrorCode = (typeof EXECUTOR_ERROR_CODES)[number];

/** How a tool-level failure is reported: HTTP status, the reference's `detail` text, and a fix. */
export interface ExecutorErrorSpec {
  readonly status: number;
  /** WARNING: clients match on these texts; never reword one that comes from the reference. */
  readonly detail: string;
  readonly fix: string;
}

/**
 * The status, detail and fix of every executor error. Texts marked "reference" are the product
 * reference's, verbatim. The gateway's HTTP mapping is derived from this table.
 */
export const EXECUTOR_ERRORS: Readonly<Record<ExecutorErrorCode, ExecutorErrorSpec>> = {
  EXECUTOR_UPSTREAM_TIMEOUT: {
    status: 500,
    detail: 'Tool execution timed out', // reference
    fix: 'Your API endpoint did not respond within the tool timeout: check it for slow queries or cold starts, or raise timeout_ms. For non-idempotent tools the call may still have taken effect; retrying with the same idempotency key is safe.',
  },
  EXECUTOR_UPSTREAM_NON_2XX: {
    status: 502,
    detail: 'Upstream tool call failed — non-2xx response', // reference
    fix: 'Your API returned an error status: check your server logs and confirm the endpoint path, method and auth are correct.',
  },
  EXECUTOR_UPSTREAM_REDIRECT: {
    status: 502,
    detail: 'Upstream tool call failed — non-2xx response', // reference
    fix: 'Your API answered with a redirect, which tengine never follows: point base_url and endpoint_path at the final location.',
  },
  EXECUTOR_UPSTREAM_CONNECTION_ERROR: {
    status: 502,
    detail: 'Upstream tool call failed — connection error', // reference
    fix: 'Your API is unreachable: confirm base_url is publicly accessible over HTTPS with a valid certificate, and check firewall/VPC rules.',
  },
  EXECUTOR_UPSTREAM_RESPONSE_TOO_LARGE: {
    status: 502,
    detail: 'Upstream tool call failed — response too large',
    fix: 'Return less data from the endpoint (paginate or filter); compressed responses count after decompression.',
  },
  EXECUTOR_SECRET_DECRYPT_FAILED: {
    status: 500,
    detail: 'Failed to decrypt auth secret', // reference
    fix: 'Re-register the tool with a fresh secret value (hmac_signature secrets: whsec_ followed by base64).',
  },
  EXECUTOR_EGRESS_DENIED: {
    status: 403,
    detail: 'Upstream address not allowed by the egress policy',
    fix: 'Tools may only call public HTTPS endpoints on port 443. To call an internal API deliberately, the operator lists it in TENGINE_EGRESS_ALLOW.',
  },
  EXECUTOR_IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    detail: 'A call with this idempotency key is in progress',
    fix: 'Wait for the first call to finish, then retry with the same key to get its result.',
  },
  EXECUTOR_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    detail: 'Idempotency key already used with different arguments',
    fix: 'Use a new idempotency key for a call with different arguments.',
  },
  EXECUTOR_RUN_INTERRUPTED: {
    status: 500,
    detail: 'Tool execution was interrupted; its outcome is unknown',
    fix: 'Check in your API whether the earlier call took effect (it carried the same Idempotency-Key header) before calling again with a new key.',
  },
  EXECUTOR_TOOL_UNAVAILABLE: {
    status: 403,
    detail: 'Tool not enabled for this project', // reference
    fix: 'Confirm the tool exists, is_enabled is true, and the credential holds its required_scope.',
  },
  EXECUTOR_MEMBER_REQUIRED: {
    status: 403,
    detail: 'Member context required for this tool', // reference
    fix: 'Authenticate with a member session token (tng_mst_…).',
  },
  EXECUTOR_RESERVED_VARIABLE: {
    status: 400,
    detail: 'Reserved variable cannot be provided as user input', // reference
    fix: 'Remove member_id, project_id and integration_id from the arguments: they are injected from the caller.',
  },
  EXECUTOR_RENDER_FAILED: {
    status: 400,
    detail: 'Tool arguments cannot be rendered into a request',
    fix: 'Path values must be non-empty and not "." or ".."; header values must not contain line breaks or control characters.',
  },
  EXECUTOR_EXECUTION_FAILED: {
    status: 500,
    detail: 'Tool execution failed', // reference
    fix: 'tengine hit an unexpected error calling your API endpoint: retry with the same idempotency key; if it persists, report the run id.',
  },
  EXECUTOR_RUN_NOT_RECORDED: {
    status: 503,
    detail: 'Run could not be recorded',
    fix: 'The Run could not be recorded (run log or ledger unavailable), so whether the call took effect is unknown: look the Run up in run history, or retry with the same idempotency key (a completed call is replayed, never repeated).',
  },
  EXECUTOR_REGISTRY_UNAVAILABLE: {
    status: 503,
    detail: 'Tool registry unavailable',
    fix: 'Retry shortly; the operator should check that the registry service is running.',
  },
  EXECUTOR_LEDGER_UNAVAILABLE: {
    status: 503,
    detail: 'Idempotency ledger unavailable',
    fix: 'Nothing was sent to your API: the executor could not reach its database. Retry shortly with the same idempotency key; the operator should check PostgreSQL.',
  },
};

// ---------------------------------------------------------------------------------------------
// Limits shared with the gateway
// ---------------------------------------------------------------------------------------------

/** Most upstream attempts of one call (the first one included). */
export const EXECUTOR_MAX_ATTEMPTS = 3;
/** Longest wait between two attempts (a longer `Retry-After` ends the call instead). */
export const EXECUTOR_MAX_RETRY_DELAY_MS = 2_000;

/**
 * The longest an executor spends on the upstream part of one call with the given tool timeout:
 * every attempt at its full timeout plus the longest waits between them. The gateway should wait
 * for the reply at least this long plus a margin for the ledger and the run log (a few seconds).
 */
export function executionBudgetMs(toolTimeoutMs: number): number {
  return (
    EXECUTOR_MAX_ATTEMPTS * toolTimeoutMs +
    (EXECUTOR_MAX_ATTEMPTS - 1) * EXECUTOR_MAX_RETRY_DELAY_MS
  );
}

/** Largest upstream body returned in a reply (bytes of UTF-8 text); larger ones are truncated. */
export const EXECUTOR_REPLY_BODY_MAX_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// rpc.executor.run.execute.v1
// ---------------------------------------------------------------------------------------------

/** A JSON-RPC request id (MCP `tools/call` id). */
export const JsonRpcIdSchema = z.union([z.string().max(256), z.number(), z.null()]);

/**
 * An idempotency key: 1-200 visible ASCII characters (no spaces), because it travels in headers.
 * Keys are scoped to (project, principal): two members using the same key never collide.
 */
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 visible ASCII characters');

/** A W3C `traceparent` header value. */
export const TraceparentSchema = z
  .string()
  .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent');

/**
 * Request of `rpc.executor.run.execute.v1`. The gateway assigns `runId` before sending, so it can
 * report the Run even when no reply comes; `arguments` were already validated against the tool
 * version's input schema.
 */
export const ExecuteRunRequestSchema = z
  .object({
    /** ULID, assigned by the gateway. */
    runId: z.ulid(),
    /** The JSON-RPC id of the `tools/call`, recorded with the Run. */
    requestId: JsonRpcIdSchema,
    principal: ProjectPrincipalSchema,
    /** The tool by name and the version whose input schema validated `arguments`. */
    tool: z.object({ name: ToolNameSchema, version: z.number().int().min(1) }).strict(),
    /** JSON values (they arrive as JSON); typed loosely so callers can pass validated input as is. */
    arguments: z.record(z.string(), z.unknown()),
    /**
     * The client's key, or one the gateway derived. The same key with the same arguments is
     * executed once; later calls get the stored result (`replayed: true`).
     */
    idempotencyKey: IdempotencyKeySchema,
    traceparent: TraceparentSchema.optional(),
  })
  .strict();
export type ExecuteRunRequest = z.infer<typeof ExecuteRunRequestSchema>;

/**
 * How a Run ended. `succeeded`: the API answered 2xx. `failed`: it definitely did not succeed
 * (error status, unreachable, timed out before anything was sent). `indeterminate`: the request may
 * have taken effect but no answer came back (never reported as `succeeded`). `rejected`: refused
 * before anything was sent (policy, idempotency, validation).
 */
export const RUN_OUTCOMES = ['succeeded', 'failed', 'indeterminate', 'rejected'] as const;
export const RunOutcomeSchema = z.enum(RUN_OUTCOMES);
export type RunOutcome = z.infer<typeof RunOutcomeSchema>;

/** The customer API's answer, as returned to the caller (bounded). */
export const UpstreamResponseSchema = z.object({
  status: z.number().int(),
  /** The `Content-Type` header, or null. */
  contentType: z.string().nullable(),
  /** The body as UTF-8 text (`utf8`) or, for binary content types, base64 (`base64`). */
  encoding: z.enum(['utf8', 'base64']),
  /** At most {@link EXECUTOR_REPLY_BODY_MAX_BYTES} (or the configured lower bound). */
  body: z.string(),
  /** The parsed body, when it is JSON and was not truncated. */
  json: z.json().optional(),
  /** True when `body` was cut to the reply bound. */
  truncated: z.boolean(),
  /** Size of the whole (decompressed) body in bytes. */
  bytes: z.number().int().min(0),
});
export type UpstreamResponse = z.infer<typeof UpstreamResponseSchema>;

/** A tool-level failure: stable code, the reference's status and detail, and what to do. */
export const RunErrorSchema = z.object({
  code: z.enum(EXECUTOR_ERROR_CODES),
  /** The HTTP status of the reference row (500, 502, 403, 409, 422, 400…). */
  status: z.number().int(),
  /** The reference's detail text, verbatim. */
  detail: z.string(),
  fix: z.string(),
  /** The upstream HTTP status, when the API answered. */
  upstreamStatus: z.number().int().optional(),
  /** A bounded excerpt of the upstream body or of the cause, with the tool's secret removed. */
  excerpt: z.string().max(2048).optional(),
});
export type RunError = z.infer<typeof RunErrorSchema>;

/** Reply of `rpc.executor.run.execute.v1`. */
/**
 * Where the executor spent a call's time, in milliseconds: rendering the request, signing it,
 * the idempotency ledger, the customer's API (all attempts), publishing Run events, and in all.
 * The gateway turns them into a `Server-Timing` header.
 */
export const ExecutorTimingsSchema = z.object({
  render: z.number().min(0),
  sign: z.number().min(0),
  ledger: z.number().min(0),
  upstream: z.number().min(0),
  publish: z.number().min(0),
  total: z.number().min(0),
});
export type ExecutorTimings = z.infer<typeof ExecutorTimingsSchema>;

export const ExecuteRunReplySchema = z.object({
  runId: z.ulid(),
  status: RunOutcomeSchema,
  /** Upstream attempts this Run made (0 when refused or replayed). */
  attempts: z.number().int().min(0),
  /** True when answered from the idempotency ledger without calling the API. */
  replayed: z.boolean(),
  /** The Run whose stored result was replayed (or whose interrupted call this one resolved). */
  replayedFromRunId: z.ulid().optional(),
  durationMs: z.number().min(0),
  upstream: UpstreamResponseSchema.optional(),
  error: RunErrorSchema.optional(),
  /** Where this call's time went (not stored: a replay reports its own). */
  timings: ExecutorTimingsSchema.optional(),
});
export type ExecuteRunReply = z.infer<typeof ExecuteRunReplySchema>;

// ---------------------------------------------------------------------------------------------
// Run events
// ---------------------------------------------------------------------------------------------

/** The events of a Run: `started` when a request is about to go upstream, then one terminal event. */
export const RUN_EVENT_NAMES = ['started', ...RUN_OUTCOMES] as const;
export const RunEventNameSchema = z.enum(RUN_EVENT_NAMES);
export type RunEventName = z.infer<typeof RunEventNameSchema>;

/**
 * Payload of every Run event (JetStream `runs.<project_id>.<event>`, or the in-process
 * `evt.executor.run.*` subjects in embedded mode). Never carries secrets or raw arguments.
 */
export const RunEventSchema = z.object({
  event: RunEventNameSchema,
  runId: z.ulid(),
  requestId: JsonRpcIdSchema,
  projectId: z.string().uuid(),
  integrationId: z.string().uuid(),
  /** The API key the call was authenticated with (directly or through a member session). */
  keyId: z.string(),
  principalKind: z.enum(['api_key', 'member_session']),
  memberId: z.string().uuid().nullable(),
  memberExternalId: z.string().nullable(),
  tool: z.object({
    name: z.string(),
    version: z.number().int(),
    /** Null when the tool could not be resolved. */
    id: z.string().uuid().nullable(),
  }),
  /** Null when the Run was refused before its request was rendered. */
  method: z.string().nullable(),
  /** Host (and port, if not the default) of the tool's base URL; null when unknown. */
  host: z.string().nullable(),
  /** `running` on `started`; the outcome on terminal events. */
  status: z.enum(['running', ...RUN_OUTCOMES]),
  upstreamStatus: z.number().int().nullable(),
  attempts: z.number().int().min(0),
  replayed: z.boolean(),
  replayedFromRunId: z.ulid().nullable(),
  timings: z.object({
    /** ISO 8601. */
    startedAt: z.string(),
    /** ISO 8601; null on `started`. */
    finishedAt: z.string().nullable(),
    durationMs: z.number().min(0).nullable(),
    /** Time spent waiting on the API over all attempts. */
    upstreamMs: z.number().min(0).nullable(),
  }),
  /** Bytes of the (last) request body sent. */
  requestBytes: z.number().int().min(0).nullable(),
  /** Bytes of the (decompressed) response body. */
  responseBytes: z.number().int().min(0).nullable(),
  errorCode: z.enum(EXECUTOR_ERROR_CODES).nullable(),
  idempotencyKey: z.string(),
  /** W3C trace id of the call, for jumping from a Run to its trace. */
  traceId: z.string().nullable(),
  /** The executor replica that published the event. */
  executor: z.string(),
});
export type RunEvent = z.infer<typeof RunEventSchema>;

/** Default name of the JetStream stream holding Run events. */
export const RUNS_STREAM_DEFAULT_NAME = 'TENGINE_RUNS';

/**
 * Names and subjects of the runs stream. With a NATS subject prefix (`NATS_SUBJECT_PREFIX=acme`)
 * the subjects are prefixed like every core subject (`acme.runs.>`) and the stream name gets the
 * prefix as a suffix (`TENGINE_RUNS_ACME`), so stacks sharing one NATS never share a stream.
 */
export const RunsStream = {
  /** The stream name for a subject prefix (`''`, or with or without its trailing dot). */
  name(prefix: string, base: string = RUNS_STREAM_DEFAULT_NAME): string {
    const namespace = prefix.replace(/\.$/, '');
    return namespace === ''
      ? base
      : `${base}_${namespace.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
  },
  /** The stream's subject filter, e.g. `runs.>`. */
  filter(prefix: string): string {
    return `${normalizePrefix(prefix)}runs.>`;
  },
  /** The subject of one event of one project's Run, e.g. `runs.<project_id>.succeeded`. */
  subject(prefix: string, projectId: string, event: RunEventName): string {
    return `${normalizePrefix(prefix)}runs.${projectId}.${event}`;
  },
  /** The `Nats-Msg-Id` of an event: JetStream drops a second publish within the duplicate window. */
  messageId(runId: string, event: RunEventName): string {
    return `${runId}.${event}`;
  },
} as const;

function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
}

// ---------------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------------

export const EXECUTOR_SUBJECTS = {
  statusGet: 'rpc.executor.status.get.v1',
  runExecute: 'rpc.executor.run.execute.v1',
  /** Embedded mode only (no JetStream): a Run is about to call its API. */
  runStarted: 'evt.executor.run.started.v1',
  /** Embedded mode only (no JetStream): a Run ended (any outcome). */
  runCompleted: 'evt.executor.run.completed.v1',
} as const;

export const EXECUTOR_RPC = {
  [EXECUTOR_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [EXECUTOR_SUBJECTS.runExecute]: rpc(ExecuteRunRequestSchema, ExecuteRunReplySchema),
} as const;

/**
 * Events the executor publishes on the message bus. Over NATS, Run events go to JetStream instead
 * (see {@link RunsStream}); these core subjects carry them only in embedded mode.
 */
export const EXECUTOR_EVENTS = {
  [EXECUTOR_SUBJECTS.runStarted]: RunEventSchema,
  [EXECUTOR_SUBJECTS.runCompleted]: RunEventSchema,
} as const;
