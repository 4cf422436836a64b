import { Controller } from '@nestjs/common';

import {
  Subjects,
  type CreateToolRequest,
  type GetToolRequest,
  type ImportToolsReply,
  type ImportToolsRequest,
  type ListToolsRequest,
  type ListVisibleToolsRequest,
  type PatchToolRequest,
  type ResolvedTool,
  type ResolveToolRequest,
  type Tool,
  type ToolCommandRequest,
  type ToolDeletedReply,
  type ToolPage,
  type UpdateToolRequest,
  type VisibleToolList,
} from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { ToolImportService } from '../openapi/tool-import.service.js';
import { ToolsService } from './tools.service.js';

@Controller()
export class ToolsController {
  constructor(
    private readonly tools: ToolsService,
    private readonly imports: ToolImportService,
  ) {}

  @RpcHandler(Subjects.registry.toolCreate)
  create(@RpcPayload(Subjects.registry.toolCreate) request: CreateToolRequest): Promise<Tool> {
    return this.tools.create(request);
  }

  @RpcHandler(Subjects.registry.toolUpdate)
  update(@RpcPayload(Subjects.registry.toolUpdate) request: UpdateToolRequest): Promise<Tool> {
    return this.tools.update(request);
  }

  @RpcHandler(Subjects.registry.toolPatch)
  patch(@RpcPayload(Subjects.registry.toolPatch) request: PatchToolRequest): Promise<Tool> {
    return this.tools.patch(request);
  }

  @RpcHandler(Subjects.registry.toolDelete)
  delete(
    @RpcPayload(Subjects.registry.toolDelete) request: ToolCommandRequest,
  ): Promise<ToolDeletedReply> {
    return this.tools.delete(request);
  }

  @RpcHandler(Subjects.registry.toolEnable)
  enable(@RpcPayload(Subjects.registry.toolEnable) request: ToolCommandRequest): Promise<Tool> {
    return this.tools.setEnabled(request, true);
  }

  @RpcHandler(Subjects.registry.toolDisable)
  disable(@RpcPayload(Subjects.registry.toolDisable) request: ToolCommandRequest): Promise<Tool> {
    return this.tools.setEnabled(request, false);
  }

  @RpcHandler(Subjects.registry.toolGet)
  get(@RpcPayload(Subjects.registry.toolGet) request: GetToolRequest): Promise<Tool> {
    return this.tools.get(request);
  }

  @RpcHandler(Subjects.registry.toolList)
  list(
    @RpcPayload(Subjects.registry.toolList) request: ListVisibleToolsRequest,
  ): Promise<VisibleToolList> {
    return this.tools.listVisible(request);
  }

  @RpcHandler(Subjects.registry.toolListAll)
  listAll(@RpcPayload(Subjects.registry.toolListAll) request: ListToolsRequest): Promise<ToolPage> {
    return this.tools.listAll(request);
  }

  @RpcHandler(Subjects.registry.toolResolve)
  resolve(
    @RpcPayload(Subjects.registry.toolResolve) request: ResolveToolRequest,
  ): Promise<ResolvedTool> {
    return this.tools.resolve(request);
  }

  @RpcHandler(Subjects.registry.toolImport)
  import(
    @RpcPayload(Subjects.registry.toolImport) request: ImportToolsRequest,
  ): Promise<ImportToolsReply> {
    return this.imports.import(request);
  }
}
