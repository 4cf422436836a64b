import { Controller, Delete, Get, Param } from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentProject } from '../auth/auth.guard.js';
import { Forwarder } from './forwarder.js';

/** The project's API keys: listed without secrets, revoked at once everywhere. */
@Controller('api/v1/api-keys')
@Auth({ scope: 'keys:write' })
export class ApiKeysController {
  constructor(private readonly forwarder: Forwarder) {}

  @Get()
  list(
    @CurrentProject() projectId: string,
  ): Promise<RpcReply<typeof Subjects.identity.apiKeyList>> {
    return this.forwarder.send(Subjects.identity.apiKeyList, { projectId });
  }

  @Delete(':keyId')
  revoke(
    @CurrentProject() projectId: string,
    @Param('keyId') keyId: string,
  ): Promise<RpcReply<typeof Subjects.identity.apiKeyRevoke>> {
    return this.forwarder.send(Subjects.identity.apiKeyRevoke, { projectId, keyId });
  }
}
