import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@tengine/runtime';

import type { AssertionAlgorithm } from './assertion-key-material.js';

export interface AssertionKeyRecord {
  readonly id: string;
  readonly projectId: string;
  readonly kid: string;
  readonly algorithm: AssertionAlgorithm;
  readonly publicKey: string;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly deactivatedAt: Date | null;
}

interface Row {
  id: string;
  project_id: string;
  kid: string;
  algorithm: AssertionAlgorithm;
  public_key: string;
  active: boolean;
  created_at: Date;
  deactivated_at: Date | null;
}

const COLUMNS = 'id, project_id, kid, algorithm, public_key, active, created_at, deactivated_at';

function toRecord(row: Row): AssertionKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    kid: row.kid,
    algorithm: row.algorithm,
    publicKey: row.public_key,
    active: row.active,
    createdAt: row.created_at,
    deactivatedAt: row.deactivated_at,
  };
}

/** The only code touching identity.assertion_keys; every query is project-scoped. */
@Injectable()
export class AssertionKeysRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Inserts an active key; undefined when the project already has an active key with this kid. */
  async insert(
    projectId: string,
    kid: string,
    algorithm: AssertionAlgorithm,
    publicKey: string,
  ): Promise<AssertionKeyRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `INSERT INTO identity.assertion_keys (project_id, kid, algorithm, public_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, kid) WHERE active DO NOTHING RETURNING ${COLUMNS}`,
      [projectId, kid, algorithm, publicKey],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async findActiveByKid(projectId: string, kid: string): Promise<AssertionKeyRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT ${COLUMNS} FROM identity.assertion_keys WHERE project_id = $1 AND kid = $2 AND active`,
      [projectId, kid],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(projectId: string): Promise<AssertionKeyRecord[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT ${COLUMNS} FROM identity.assertion_keys WHERE project_id = $1 ORDER BY created_at DESC`,
      [projectId],
    );
    return rows.map(toRecord);
  }

  async deactivate(projectId: string, id: string): Promise<AssertionKeyRecord | undefined> {
    const rows = await this.dataSource.query<[Row[], number]>(
      `UPDATE identity.assertion_keys SET active = false, deactivated_at = COALESCE(deactivated_at, now())
       WHERE project_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [projectId, id],
    );
    const row = rows[0][0];
    return row ? toRecord(row) : undefined;
  }
}
