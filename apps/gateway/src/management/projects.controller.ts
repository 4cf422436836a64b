import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

/** Projects span the platform: only the admin token creates, lists and reads them here. */
@Controller('api/v1/projects')
@Auth({ admin: true })
export class ProjectsController {
  constructor(private readonly forwarder: Forwarder) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown): Promise<RpcReply<typeof Subjects.registry.projectCreate>> {
    return this.forwarder.send(Subjects.registry.projectCreate, bodyObject(body));
  }

  @Get()
  list(
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<RpcReply<typeof Subjects.registry.projectList>> {
    return this.forwarder.send(Subjects.registry.projectList, {
      ...(cursor ? { cursor } : {}),
      ...(limit ? { limit: Number(limit) } : {}),
    });
  }

  @Get(':projectId')
  get(
    @Param('projectId') projectId: string,
  ): Promise<RpcReply<typeof Subjects.registry.projectGet>> {
    return this.forwarder.send(Subjects.registry.projectGet, { projectId });
  }
}
