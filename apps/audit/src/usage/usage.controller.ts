import { Controller } from '@nestjs/common';

import { Subjects, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { UsageService } from './usage.service.js';

@Controller()
export class UsageController {
  constructor(private readonly service: UsageService) {}

  @RpcHandler(Subjects.audit.usageGet)
  get(
    @RpcPayload(Subjects.audit.usageGet) request: RpcRequest<typeof Subjects.audit.usageGet>,
  ): Promise<RpcReply<typeof Subjects.audit.usageGet>> {
    return this.service.get(request);
  }
}
