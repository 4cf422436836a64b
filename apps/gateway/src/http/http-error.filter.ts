import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { DomainError } from '@tengine/contracts';
import type { Logger } from '@tengine/telemetry';

import { httpErrorFor } from './error-catalog.js';

/** The body of every error the gateway returns. */
export interface HttpErrorBody {
  /** What went wrong, in the reference's words. */
  readonly detail: string | ReadonlyArray<unknown>;
  /** Stable machine code. */
  readonly code: string;
  /** What to do about it. */
  readonly fix: string;
  readonly request_id: string;
}

function statusCodeOf(error: unknown): number | undefined {
  const candidate = (error as { statusCode?: unknown })?.statusCode;
  return typeof candidate === 'number' && candidate >= 400 && candidate < 600
    ? candidate
    : undefined;
}

/** Maps everything thrown while serving HTTP to a status and an {@link HttpErrorBody}. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body } = this.describe(exception, request.id);
    if (status >= 500)
      this.logger.error({ err: exception, request_id: request.id, status }, 'request failed');
    if (status === 401) {
      // RFC 6750: say how to authenticate, and whether the token presented was the problem.
      const invalid = body.code === 'IDENTITY_CREDENTIAL_MISSING' ? '' : ', error="invalid_token"';
      void reply.header('WWW-Authenticate', `Bearer realm="tengine"${invalid}`);
    }
    void reply.status(status).send(body);
  }

  private describe(exception: unknown, requestId: string): { status: number; body: HttpErrorBody } {
    if (exception instanceof DomainError) {
      const spec = httpErrorFor(exception.code);
      const issues = exception.details?.['issues'];
      const detail =
        exception.code === 'VALIDATION_FAILED' && Array.isArray(issues)
          ? issues
          : exception.message;
      return {
        status: spec.status,
        body: { detail, code: exception.code, fix: spec.fix, request_id: requestId },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return {
        status,
        body: {
          detail: exception.message,
          code: status === 404 ? 'NOT_FOUND' : `HTTP_${status}`,
          fix:
            status === 404
              ? 'Check the method and path against GET /api/v1/openapi.json.'
              : 'Correct the request.',
          request_id: requestId,
        },
      };
    }
    const status = statusCodeOf(exception);
    if (status !== undefined && status < 500) {
      return {
        status,
        body: {
          detail: (exception as Error).message,
          code: `HTTP_${status}`,
          fix: 'Correct the request.',
          request_id: requestId,
        },
      };
    }
    const spec = httpErrorFor('INTERNAL');
    return {
      status: 500,
      body: {
        detail: 'Internal server error',
        code: 'INTERNAL',
        fix: spec.fix,
        request_id: requestId,
      },
    };
  }
}
