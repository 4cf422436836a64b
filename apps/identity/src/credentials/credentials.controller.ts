import { Controller } from '@nestjs/common';

import { Subjects, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { CredentialsService } from './credentials.service.js';

@Controller()
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @RpcHandler(Subjects.identity.credentialVerify)
  verify(
    @RpcPayload(Subjects.identity.credentialVerify)
    request: RpcRequest<typeof Subjects.identity.credentialVerify>,
  ): Promise<RpcReply<typeof Subjects.identity.credentialVerify>> {
    return this.credentials.verify(request.credential);
  }
}
