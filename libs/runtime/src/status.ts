import { Controller, Inject } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import {
  STATUS_SUBJECTS,
  type BackendServiceName,
  type ServiceStatus,
  type StatusRequest,
} from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';
import { schemaState } from '@tengine/persistence';

import type { ServiceInfo } from './service-info.js';
import { DATA_SOURCE, SERVICE_INFO } from './tokens.js';

/** Builds this instance's status: version, replica and migration state. */
export async function describeService(
  info: ServiceInfo,
  dataSource: DataSource | null,
): Promise<ServiceStatus> {
  return {
    service: info.name,
    version: info.version,
    instance: info.instance,
    uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
    schema: dataSource && info.schema ? await schemaState(dataSource, info.schema) : null,
  };
}

/** The `rpc.<service>.status.get.v1` handler of a backend service. */
export function statusControllerFor(service: BackendServiceName): new (...args: never[]) => object {
  @Controller()
  class StatusController {
    constructor(
      @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
      @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    ) {}

    @RpcHandler(STATUS_SUBJECTS[service])
    status(@RpcPayload(STATUS_SUBJECTS[service]) _request: StatusRequest): Promise<ServiceStatus> {
      return describeService(this.info, this.dataSource);
    }
  }
  return StatusController;
}
