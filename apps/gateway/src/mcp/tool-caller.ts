import { context, trace } from '@opentelemetry/api';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import {
  DomainError,
  EXECUTOR_ERROR_CODES,
  EXECUTOR_ERRORS,
  Subjects,
  type ExecuteRunReply,
  type ExecutorErrorCode,
  type ProjectPrincipal,
  type RunError,
  type Tool,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { Attributes, withRunId, type Logger } from '@tengine/telemetry';

import type { ToolCaller } from './mcp-endpoint.js';
import { newRunId } from './run-ids.js';
import type { ServerTiming } from './server-timing.js';

const EXECUTOR_CODES: ReadonlySet<string> = new Set(EXECUTOR_ERROR_CODES);

function isExecutorErrorCode(code: string): code is ExecutorErrorCode {
  return EXECUTOR_CODES.has(code);
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function failure(
  runId: string,
  status: number,
  detail: string,
  fix: string,
  code: string,
  extra = '',
): CallToolResult {
  return {
    content: [
      {
        type: 'text',
        text: `${status} ${REASONS[status] ?? 'Error'}: ${detail} — ${fix}${extra} (Run ${runId})`,
      },
    ],
    isError: true,
    _meta: {
      'io.tengine/run_id': runId,
      'io.tengine/error_code': code,
      'io.tengine/status': status,
    },
  };
}

/** Turns the executor's reply into what the model receives. */
export function toCallToolResult(reply: ExecuteRunReply): CallToolResult {
  const meta = { 'io.tengine/run_id': reply.runId, 'io.tengine/replayed': reply.replayed };
  if (reply.status === 'succeeded' && reply.upstream) {
    const { json } = reply.upstream;
    const structured =
      typeof json === 'object' && json !== null && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : undefined;
    return {
      content: [{ type: 'text', text: reply.upstream.body }],
      ...(structured ? { structuredContent: structured } : {}),
      _meta: { ...meta, 'io.tengine/upstream_status': reply.upstream.status },
    };
  }
  const error: RunError = reply.error ?? {
    code: 'EXECUTOR_RUN_INTERRUPTED',
    status: 502,
    detail: 'Tool call outcome unknown',
    fix: 'The upstream may or may not have acted; check it before retrying with the same idempotency key',
  };
  const upstream =
    error.upstreamStatus === undefined ? '' : `; your API answered ${error.upstreamStatus}`;
  const excerpt = error.excerpt ? `: ${error.excerpt}` : '';
  const result = failure(
    reply.runId,
    error.status,
    error.detail,
    error.fix,
    error.code,
    `${upstream}${excerpt}`,
  );
  return { ...result, _meta: { ...result._meta, ...meta, 'io.tengine/run_status': reply.status } };
}

/** How long the gateway waits for an executor: every attempt may take the tool's timeout. */
export function executorWaitMs(tool: Tool): number {
  return Math.min(tool.timeout_ms * 3 + 10_000, 200_000);
}

/** Sends validated tool calls to an executor over NATS (any replica of the queue group). */
export class ExecutorToolCaller implements ToolCaller {
  constructor(
    private readonly bus: MessageBus,
    private readonly logger: Logger,
    private readonly waitFor: (tool: Tool) => number = executorWaitMs,
  ) {}

  async call(
    principal: ProjectPrincipal,
    tool: Tool,
    args: Record<string, unknown>,
    {
      requestId,
      idempotencyKey,
      timing,
    }: {
      readonly requestId: string | number;
      readonly idempotencyKey: string | undefined;
      readonly timing?: ServerTiming | undefined;
    },
  ): Promise<CallToolResult> {
    const runId = newRunId();
    trace.getActiveSpan()?.setAttribute(Attributes.RUN_ID, runId);
    return context.with(withRunId(runId), async () => {
      const sending = performance.now();
      try {
        const reply = await this.bus.request(
          Subjects.executor.runExecute,
          {
            runId,
            requestId,
            principal,
            tool: { name: tool.name, version: tool.version },
            arguments: args,
            // Without a client key every request is its own attempt (retries of it are new Runs).
            idempotencyKey: idempotencyKey ?? runId,
          },
          { timeoutMs: this.waitFor(tool) },
        );
        timing?.addExecutor(performance.now() - sending, reply.timings);
        return toCallToolResult(reply);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'RPC_TIMEOUT') {
          return failure(
            runId,
            504,
            'The executor did not answer in time',
            'The call may still complete: look the Run up in run history before retrying, and retry with the same Idempotency-Key',
            'EXECUTOR_TIMEOUT',
          );
        }
        if (error instanceof DomainError && isExecutorErrorCode(error.code)) {
          // The executor's own refusals keep their status, text and fix: EXECUTOR_RUN_NOT_RECORDED
          // says the outcome is unknown, EXECUTOR_LEDGER_UNAVAILABLE that nothing was sent.
          const spec = EXECUTOR_ERRORS[error.code];
          return failure(runId, spec.status, spec.detail, spec.fix, error.code);
        }
        if (
          error instanceof DomainError &&
          (error.code === 'RPC_NO_RESPONDERS' || error.code === 'RPC_TRANSPORT_CLOSED')
        ) {
          return failure(
            runId,
            503,
            'No executor is available',
            'Start an executor (or check its NATS connection) and retry',
            'EXECUTOR_UNAVAILABLE',
          );
        }
        this.logger.error({ err: error }, 'tool call failed in the gateway');
        return failure(
          runId,
          500,
          'Tool execution failed',
          'Check the tengine logs for this Run',
          'INTERNAL',
        );
      }
    });
  }
}
