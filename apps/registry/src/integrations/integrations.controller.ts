import { Controller } from '@nestjs/common';

import {
  Subjects,
  type CreateIntegrationRequest,
  type Integration,
  type IntegrationDeletedReply,
  type IntegrationList,
  type IntegrationRef,
  type ProjectRef,
} from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { IntegrationsService } from './integrations.service.js';

@Controller()
export class IntegrationsController {
  constructor(private readonly service: IntegrationsService) {}

  @RpcHandler(Subjects.registry.integrationCreate)
  create(
    @RpcPayload(Subjects.registry.integrationCreate) request: CreateIntegrationRequest,
  ): Promise<Integration> {
    return this.service.create(request);
  }

  @RpcHandler(Subjects.registry.integrationList)
  list(
    @RpcPayload(Subjects.registry.integrationList) request: ProjectRef,
  ): Promise<IntegrationList> {
    return this.service.list(request.projectId);
  }

  @RpcHandler(Subjects.registry.integrationGet)
  get(@RpcPayload(Subjects.registry.integrationGet) request: IntegrationRef): Promise<Integration> {
    return this.service.get(request.projectId, request.integrationId);
  }

  @RpcHandler(Subjects.registry.integrationDelete)
  delete(
    @RpcPayload(Subjects.registry.integrationDelete) request: IntegrationRef,
  ): Promise<IntegrationDeletedReply> {
    return this.service.delete(request.projectId, request.integrationId);
  }
}
