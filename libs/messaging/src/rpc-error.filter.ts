import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { trace } from '@opentelemetry/api';
import { throwError, type Observable } from 'rxjs';

import { DomainError, isRpcErrorEnvelope, type RpcErrorEnvelope } from '@tengine/contracts';
import { failSpan, type Logger } from '@tengine/telemetry';

import { markHandlerFailed } from './trace-hooks.js';

/**
 * Turns whatever a handler throws into an {@link RpcErrorEnvelope}: domain errors keep their code,
 * anything else is logged here with its stack and leaves as `INTERNAL` without internal details.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(
    private readonly service: string,
    private readonly logger: Logger,
  ) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const span = trace.getActiveSpan();
    markHandlerFailed(span);
    if (exception instanceof DomainError) {
      if (span) span.setAttribute('error.type', exception.code);
      return throwError(() => exception.toEnvelope());
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (isRpcErrorEnvelope(error)) return throwError(() => error);
    }
    if (span) failSpan(span, exception);
    this.logger.error({ err: exception }, 'Unhandled error in message handler');
    const traceId = span?.spanContext().traceId;
    const envelope: RpcErrorEnvelope = {
      code: 'INTERNAL',
      message: `Internal error in the ${this.service} service${traceId ? ` (trace ${traceId})` : ''}; see its logs.`,
    };
    return throwError(() => envelope);
  }
}
