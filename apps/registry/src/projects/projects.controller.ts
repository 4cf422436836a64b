import { Controller } from '@nestjs/common';

import {
  Subjects,
  type CreateProjectRequest,
  type ListProjectsRequest,
  type Project,
  type ProjectPage,
  type ProjectRef,
} from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { ProjectsService } from './projects.service.js';

@Controller()
export class ProjectsController {
  constructor(private readonly service: ProjectsService) {}

  @RpcHandler(Subjects.registry.projectCreate)
  create(
    @RpcPayload(Subjects.registry.projectCreate) request: CreateProjectRequest,
  ): Promise<Project> {
    return this.service.create(request);
  }

  @RpcHandler(Subjects.registry.projectList)
  list(
    @RpcPayload(Subjects.registry.projectList) request: ListProjectsRequest,
  ): Promise<ProjectPage> {
    return this.service.list(request);
  }

  @RpcHandler(Subjects.registry.projectGet)
  get(@RpcPayload(Subjects.registry.projectGet) request: ProjectRef): Promise<Project> {
    return this.service.get(request.projectId);
  }
}
