import { Controller } from '@nestjs/common';
import { Subjects, type ApiKeyView, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { ApiKeysService } from './api-keys.service.js';

@Controller()
export class ApiKeysController {
  constructor(private readonly service: ApiKeysService) {}

  @RpcHandler(Subjects.identity.apiKeyCreate)
  create(
    @RpcPayload(Subjects.identity.apiKeyCreate)
    request: RpcRequest<typeof Subjects.identity.apiKeyCreate>,
  ): Promise<RpcReply<typeof Subjects.identity.apiKeyCreate>> {
    return this.service.create(request);
  }

  @RpcHandler(Subjects.identity.apiKeyList)
  async list(
    @RpcPayload(Subjects.identity.apiKeyList)
    request: RpcRequest<typeof Subjects.identity.apiKeyList>,
  ): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.service.list(request.projectId) };
  }

  @RpcHandler(Subjects.identity.apiKeyRevoke)
  revoke(
    @RpcPayload(Subjects.identity.apiKeyRevoke)
    request: RpcRequest<typeof Subjects.identity.apiKeyRevoke>,
  ): Promise<ApiKeyView> {
    return this.service.revoke(request.projectId, request.keyId);
  }
}
