import { Controller } from '@nestjs/common';

import {
  Subjects,
  type AdminTokenBootstrapReply,
  type AdminTokenBootstrapRequest,
} from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { AdminTokensService } from './admin-tokens.service.js';

@Controller()
export class AdminTokensController {
  constructor(private readonly service: AdminTokensService) {}

  @RpcHandler(Subjects.identity.adminTokenBootstrap)
  bootstrap(
    @RpcPayload(Subjects.identity.adminTokenBootstrap) _request: AdminTokenBootstrapRequest,
  ): Promise<AdminTokenBootstrapReply> {
    return this.service.bootstrap();
  }
}
