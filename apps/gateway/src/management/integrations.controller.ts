import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentProject } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

/** A project's MCP client connections; API keys are created from them. */
@Controller('api/v1/integrations')
export class IntegrationsController {
  constructor(private readonly forwarder: Forwarder) {}

  @Post()
  @HttpCode(201)
  @Auth({ scope: 'keys:write' })
  create(
    @CurrentProject() projectId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.integrationCreate>> {
    return this.forwarder.send(Subjects.registry.integrationCreate, {
      ...bodyObject(body),
      projectId,
    });
  }

  @Get()
  @Auth()
  list(
    @CurrentProject() projectId: string,
  ): Promise<RpcReply<typeof Subjects.registry.integrationList>> {
    return this.forwarder.send(Subjects.registry.integrationList, { projectId });
  }

  @Get(':integrationId')
  @Auth()
  get(
    @CurrentProject() projectId: string,
    @Param('integrationId') integrationId: string,
  ): Promise<RpcReply<typeof Subjects.registry.integrationGet>> {
    return this.forwarder.send(Subjects.registry.integrationGet, { projectId, integrationId });
  }

  @Delete(':integrationId')
  @Auth({ scope: 'keys:write' })
  remove(
    @CurrentProject() projectId: string,
    @Param('integrationId') integrationId: string,
  ): Promise<RpcReply<typeof Subjects.registry.integrationDelete>> {
    return this.forwarder.send(Subjects.registry.integrationDelete, { projectId, integrationId });
  }

  /** Creates a project API key from this integration; the full key is in this reply only. */
  @Post(':integrationId/api-keys')
  @HttpCode(201)
  @Auth({ scope: 'keys:write' })
  createApiKey(
    @CurrentProject() projectId: string,
    @Param('integrationId') integrationId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.identity.apiKeyCreate>> {
    return this.forwarder.send(Subjects.identity.apiKeyCreate, {
      ...bodyObject(body),
      projectId,
      integrationId,
    });
  }
}
