import { Controller } from '@nestjs/common';

import { Subjects, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { AssertionKeysService } from './assertion-keys.service.js';

@Controller()
export class AssertionKeysController {
  constructor(private readonly service: AssertionKeysService) {}

  @RpcHandler(Subjects.identity.assertionKeyRegister)
  register(
    @RpcPayload(Subjects.identity.assertionKeyRegister)
    request: RpcRequest<typeof Subjects.identity.assertionKeyRegister>,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyRegister>> {
    return this.service.register(request);
  }

  @RpcHandler(Subjects.identity.assertionKeyList)
  async list(
    @RpcPayload(Subjects.identity.assertionKeyList)
    request: RpcRequest<typeof Subjects.identity.assertionKeyList>,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyList>> {
    return { items: await this.service.list(request.projectId) };
  }

  @RpcHandler(Subjects.identity.assertionKeyDeactivate)
  deactivate(
    @RpcPayload(Subjects.identity.assertionKeyDeactivate)
    request: RpcRequest<typeof Subjects.identity.assertionKeyDeactivate>,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyDeactivate>> {
    return this.service.deactivate(request.projectId, request.assertionKeyId);
  }
}
