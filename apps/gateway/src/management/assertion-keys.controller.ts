import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentProject } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

/** Public keys the customer's backend signs member assertions with. */
@Controller('api/v1/assertion-keys')
@Auth({ scope: 'keys:write' })
export class AssertionKeysController {
  constructor(private readonly forwarder: Forwarder) {}

  @Post()
  @HttpCode(201)
  register(
    @CurrentProject() projectId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyRegister>> {
    return this.forwarder.send(Subjects.identity.assertionKeyRegister, {
      ...bodyObject(body),
      projectId,
    });
  }

  @Get()
  list(
    @CurrentProject() projectId: string,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyList>> {
    return this.forwarder.send(Subjects.identity.assertionKeyList, { projectId });
  }

  @Post(':assertionKeyId/deactivate')
  @HttpCode(200)
  deactivate(
    @CurrentProject() projectId: string,
    @Param('assertionKeyId') assertionKeyId: string,
  ): Promise<RpcReply<typeof Subjects.identity.assertionKeyDeactivate>> {
    return this.forwarder.send(Subjects.identity.assertionKeyDeactivate, {
      projectId,
      assertionKeyId,
    });
  }
}
