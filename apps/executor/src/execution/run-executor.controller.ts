import { Controller } from '@nestjs/common';
import { trace } from '@opentelemetry/api';

import { Subjects, type ExecuteRunReply, type ExecuteRunRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';
import { Attributes } from '@tengine/telemetry';

import { runDuration, runsTotal } from './run-metrics.js';
import { RunExecutorService } from './run-executor.service.js';

/** The trace id of a W3C `traceparent`, when valid. */
function traceIdOf(traceparent: string | undefined): string | null {
  return traceparent?.split('-')[1] ?? null;
}

@Controller()
export class RunExecutorController {
  constructor(private readonly executor: RunExecutorService) {}

  @RpcHandler(Subjects.executor.runExecute)
  async execute(
    @RpcPayload(Subjects.executor.runExecute) request: ExecuteRunRequest,
  ): Promise<ExecuteRunReply> {
    const span = trace.getActiveSpan();
    span?.setAttributes({
      [Attributes.RUN_ID]: request.runId,
      [Attributes.PROJECT_ID]: request.principal.projectId,
      [Attributes.TOOL_NAME]: request.tool.name,
    });
    const traceId = span?.spanContext().traceId ?? traceIdOf(request.traceparent);
    const reply = await this.executor.execute(request, traceId ?? null);
    runsTotal.inc({
      status: reply.status,
      code: reply.error?.code ?? 'none',
      replayed: String(reply.replayed),
    });
    runDuration.observe({ status: reply.status }, reply.durationMs / 1000);
    if (reply.error) span?.setAttribute(Attributes.ERROR_TYPE, reply.error.code);
    return reply;
  }
}
