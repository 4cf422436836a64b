import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentProject } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

function expectedVersion(query: string | undefined, body: unknown): Record<string, number> {
  const fromBody = bodyObject(body)['expected_version'];
  if (typeof fromBody === 'number') return { expected_version: fromBody };
  if (query !== undefined && /^\d{1,9}$/.test(query)) return { expected_version: Number(query) };
  return {};
}

/** The project's custom tools: definitions, versions, enablement and OpenAPI import. */
@Controller('api/v1/custom-tools')
@Auth({ scope: 'tools:write' })
export class CustomToolsController {
  constructor(private readonly forwarder: Forwarder) {}

  @Post()
  @HttpCode(201)
  create(
    @CurrentProject() projectId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolCreate>> {
    return this.forwarder.send(Subjects.registry.toolCreate, { ...bodyObject(body), projectId });
  }

  /** Creates one tool per operation of an OpenAPI 3.0/3.1 document (`dry_run` to preview). */
  @Post('import')
  @HttpCode(200)
  import(
    @CurrentProject() projectId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolImport>> {
    return this.forwarder.send(Subjects.registry.toolImport, { ...bodyObject(body), projectId });
  }

  @Get()
  list(
    @CurrentProject() projectId: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<RpcReply<typeof Subjects.registry.toolListAll>> {
    return this.forwarder.send(Subjects.registry.toolListAll, {
      projectId,
      ...(cursor ? { cursor } : {}),
      ...(limit && /^\d{1,4}$/.test(limit) ? { limit: Number(limit) } : {}),
    });
  }

  @Get(':toolId')
  get(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
  ): Promise<RpcReply<typeof Subjects.registry.toolGet>> {
    return this.forwarder.send(Subjects.registry.toolGet, { projectId, toolId });
  }

  @Put(':toolId')
  update(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolUpdate>> {
    return this.forwarder.send(Subjects.registry.toolUpdate, {
      ...bodyObject(body),
      projectId,
      toolId,
    });
  }

  @Patch(':toolId')
  patch(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolPatch>> {
    return this.forwarder.send(Subjects.registry.toolPatch, {
      ...bodyObject(body),
      projectId,
      toolId,
    });
  }

  @Delete(':toolId')
  remove(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
    @Query('expected_version') version: string | undefined,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolDelete>> {
    return this.forwarder.send(Subjects.registry.toolDelete, {
      projectId,
      toolId,
      ...expectedVersion(version, body),
    });
  }

  @Post(':toolId/enable')
  @HttpCode(200)
  enable(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
    @Query('expected_version') version: string | undefined,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolEnable>> {
    return this.forwarder.send(Subjects.registry.toolEnable, {
      projectId,
      toolId,
      ...expectedVersion(version, body),
    });
  }

  @Post(':toolId/disable')
  @HttpCode(200)
  disable(
    @CurrentProject() projectId: string,
    @Param('toolId') toolId: string,
    @Query('expected_version') version: string | undefined,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.registry.toolDisable>> {
    return this.forwarder.send(Subjects.registry.toolDisable, {
      projectId,
      toolId,
      ...expectedVersion(version, body),
    });
  }
}
