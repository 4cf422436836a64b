import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { Project } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

/** A project row as read. */
export interface ProjectRow {
  readonly id: string;
  readonly name: string;
  readonly environment: Project['environment'];
  readonly created_at: Date;
}

const COLUMNS = 'id, name, environment, created_at';

@Injectable()
export class ProjectsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insert(name: string, environment: Project['environment']): Promise<ProjectRow> {
    const rows = await this.dataSource.query<ProjectRow[]>(
      `INSERT INTO registry.projects (name, environment) VALUES ($1, $2) RETURNING ${COLUMNS}`,
      [name, environment],
    );
    return rows[0] as ProjectRow;
  }

  async findById(id: string): Promise<ProjectRow | null> {
    const rows = await this.dataSource.query<ProjectRow[]>(
      `SELECT ${COLUMNS} FROM registry.projects WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * Up to `limit` projects after the one with id `afterId`, oldest first; null when `afterId`
   * names no project.
   */
  async pageAfter(afterId: string | undefined, limit: number): Promise<ProjectRow[] | null> {
    if (afterId === undefined) {
      return this.dataSource.query<ProjectRow[]>(
        `SELECT ${COLUMNS} FROM registry.projects ORDER BY created_at, id LIMIT $1`,
        [limit],
      );
    }
    if (!(await this.findById(afterId))) return null;
    return this.dataSource.query<ProjectRow[]>(
      `SELECT ${COLUMNS} FROM registry.projects
        WHERE (created_at, id) > (SELECT created_at, id FROM registry.projects WHERE id = $1)
        ORDER BY created_at, id LIMIT $2`,
      [afterId, limit],
    );
  }
}
