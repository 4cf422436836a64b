import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { Integration } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

import { queryRows } from '../common/sql.js';

/** An integration row as read. */
export interface IntegrationRow {
  readonly id: string;
  readonly project_id: string;
  readonly kind: Integration['kind'];
  readonly name: string;
  readonly created_at: Date;
}

const COLUMNS = 'id, project_id, kind, name, created_at';

/** Every query is scoped by project: another project's id reads as absent. */
@Injectable()
export class IntegrationsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Inserts an integration; null when the project does not exist. */
  async insert(
    projectId: string,
    kind: Integration['kind'],
    name: string,
  ): Promise<IntegrationRow | null> {
    const rows = await this.dataSource.query<IntegrationRow[]>(
      `INSERT INTO registry.integrations (project_id, kind, name)
       SELECT id, $2, $3 FROM registry.projects WHERE id = $1
       RETURNING ${COLUMNS}`,
      [projectId, kind, name],
    );
    return rows[0] ?? null;
  }

  async findLive(projectId: string, integrationId: string): Promise<IntegrationRow | null> {
    const rows = await this.dataSource.query<IntegrationRow[]>(
      `SELECT ${COLUMNS} FROM registry.integrations
        WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [projectId, integrationId],
    );
    return rows[0] ?? null;
  }

  listLive(projectId: string): Promise<IntegrationRow[]> {
    return this.dataSource.query<IntegrationRow[]>(
      `SELECT ${COLUMNS} FROM registry.integrations
        WHERE project_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
      [projectId],
    );
  }

  /** Soft-deletes a live integration; false when there is none with that id in the project. */
  async softDelete(projectId: string, integrationId: string): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `UPDATE registry.integrations SET deleted_at = now()
        WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id`,
      [projectId, integrationId],
    );
    return rows.length > 0;
  }
}
