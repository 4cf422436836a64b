import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { collectDefaultMetrics, register } from 'prom-client';

import { runChecks, type HealthCheck, type HealthReport } from './health.js';

/** Readiness checks of this process, by name. */
export const HEALTH_CHECKS = Symbol('tengine.health-checks');
/** Name reported in health bodies. */
export const HEALTH_SERVICE_NAME = Symbol('tengine.health-service-name');

let defaultMetricsStarted = false;

/** `/health/live`, `/health/ready`, `/health` and `/metrics` for any service. */
@Controller()
export class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: Record<string, HealthCheck>,
    @Inject(HEALTH_SERVICE_NAME) private readonly service: string,
  ) {
    if (!defaultMetricsStarted) {
      defaultMetricsStarted = true;
      collectDefaultMetrics();
    }
  }

  /** The process is up and its event loop turns. */
  @Get('health/live')
  @HttpCode(200)
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.service };
  }

  /** Ready to take traffic: every dependency answers. 503 otherwise, with the failing checks. */
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const report = await runChecks(this.service, this.checks);
    reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }

  /** Liveness and readiness together, with details. */
  @Get('health')
  async health(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HealthReport & { live: true }> {
    const report = await runChecks(this.service, this.checks);
    reply.status(report.status === 'ok' ? 200 : 503);
    return { ...report, live: true };
  }

  /** Prometheus metrics of this process. */
  @Get('metrics')
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
