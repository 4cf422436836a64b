import { Controller, Get, Inject } from '@nestjs/common';

import {
  BACKEND_SERVICES,
  DomainError,
  STATUS_SUBJECTS,
  type ServiceStatus,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { describeService, MESSAGE_BUS, SERVICE_INFO, type ServiceInfo } from '@tengine/runtime';

/** One service's entry in the platform status. */
export type ServiceStatusEntry =
  | (ServiceStatus & { readonly status: 'ok' })
  | {
      readonly service: string;
      readonly status: 'unavailable';
      readonly error: { code: string; detail: string };
    };

/** The body of `GET /api/v1/status`. */
export interface PlatformStatus {
  readonly status: 'ok' | 'degraded';
  readonly transport: MessageBus['kind'];
  readonly services: Record<string, ServiceStatusEntry>;
}

/** Asks every backend service for its status; a missing one is reported, not fatal. */
export async function collectPlatformStatus(
  bus: MessageBus,
  info: ServiceInfo,
  timeoutMs: number,
): Promise<PlatformStatus> {
  const gateway: ServiceStatusEntry = { ...(await describeService(info, null)), status: 'ok' };
  const backends = await Promise.all(
    BACKEND_SERVICES.map(async (service): Promise<ServiceStatusEntry> => {
      try {
        return {
          ...(await bus.request(STATUS_SUBJECTS[service], {}, { timeoutMs })),
          status: 'ok',
        };
      } catch (error) {
        const code = error instanceof DomainError ? error.code : 'INTERNAL';
        return {
          service,
          status: 'unavailable',
          error: { code, detail: (error as Error).message },
        };
      }
    }),
  );
  const services: Record<string, ServiceStatusEntry> = { gateway };
  for (const entry of backends) services[entry.service] = entry;
  return {
    status: backends.every((entry) => entry.status === 'ok') ? 'ok' : 'degraded',
    transport: bus.kind,
    services,
  };
}

@Controller('api/v1')
export class StatusController {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
  ) {}

  /** Version, replica and schema state of every service, asked over the message bus. */
  @Get('status')
  status(): Promise<PlatformStatus> {
    return collectPlatformStatus(this.bus, this.info, 2_000);
  }
}
