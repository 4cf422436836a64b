import { Injectable } from '@nestjs/common';

import {
  type CreateProjectRequest,
  type ListProjectsRequest,
  type Project,
  type ProjectPage,
} from '@tengine/contracts';

import { DEFAULT_PAGE_SIZE, invalidCursor, pageOf } from '../common/pagination.js';
import { projectNotFound } from './project-errors.js';
import { ProjectsRepository, type ProjectRow } from './projects.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    environment: row.environment,
    created_at: row.created_at.toISOString(),
  };
}

@Injectable()
export class ProjectsService {
  constructor(private readonly repository: ProjectsRepository) {}

  async create(request: CreateProjectRequest): Promise<Project> {
    return toProject(await this.repository.insert(request.name, request.environment));
  }

  async get(projectId: string): Promise<Project> {
    const row = await this.repository.findById(projectId);
    if (!row) throw projectNotFound();
    return toProject(row);
  }

  async list(request: ListProjectsRequest): Promise<ProjectPage> {
    const limit = request.limit ?? DEFAULT_PAGE_SIZE;
    if (request.cursor !== undefined && !UUID.test(request.cursor)) throw invalidCursor();
    const rows = await this.repository.pageAfter(request.cursor, limit + 1);
    if (rows === null) throw invalidCursor();
    const { items, more } = pageOf(rows, limit);
    return {
      items: items.map(toProject),
      next_cursor: more ? (items[items.length - 1]?.id ?? null) : null,
    };
  }
}
