import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Observable } from 'rxjs';

import { RpcErrorFilter } from '@tengine/messaging';
import type { Logger } from '@tengine/telemetry';

/**
 * The global filter of a backend service. Registered as an `APP_FILTER` provider so it is in place
 * before Nest initialises (a filter added afterwards is silently ignored for connected
 * microservices): RPC errors become the coded envelope; errors of the small health/metrics HTTP
 * server become a JSON status.
 */
@Catch()
export class ServiceErrorFilter implements ExceptionFilter {
  private readonly rpc: RpcErrorFilter;

  constructor(
    service: string,
    private readonly logger: Logger,
  ) {
    this.rpc = new RpcErrorFilter(service, logger);
  }

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | undefined {
    if (host.getType() === 'rpc') return this.rpc.catch(exception, host);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    if (status >= 500) this.logger.error({ err: exception }, 'HTTP request failed');
    void reply
      .status(status)
      .send({ detail: status >= 500 ? 'Internal server error' : (exception as Error).message });
    return undefined;
  }
}
