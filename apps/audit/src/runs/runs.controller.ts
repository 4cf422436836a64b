import { Controller } from '@nestjs/common';

import { Subjects, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { RunsService } from './runs.service.js';

@Controller()
export class RunsController {
  constructor(private readonly service: RunsService) {}

  @RpcHandler(Subjects.audit.runList)
  list(
    @RpcPayload(Subjects.audit.runList) request: RpcRequest<typeof Subjects.audit.runList>,
  ): Promise<RpcReply<typeof Subjects.audit.runList>> {
    return this.service.list(request);
  }

  @RpcHandler(Subjects.audit.runGet)
  get(
    @RpcPayload(Subjects.audit.runGet) request: RpcRequest<typeof Subjects.audit.runGet>,
  ): Promise<RpcReply<typeof Subjects.audit.runGet>> {
    return this.service.get(request);
  }
}
