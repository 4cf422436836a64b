import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { Scope } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

/** An API key row. `keyHash` is SHA-256 of the full key; the key itself is never stored. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly projectId: string;
  readonly integrationId: string;
  readonly name: string;
  readonly keyHash: string;
  readonly last4: string;
  readonly scopes: Scope[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  project_id: string;
  integration_id: string;
  name: string;
  key_hash: string;
  last4: string;
  scopes: Scope[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS =
  'id, project_id, integration_id, name, key_hash, last4, scopes, created_at, last_used_at, revoked_at';

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    integrationId: row.integration_id,
    name: row.name,
    keyHash: row.key_hash,
    last4: row.last4,
    scopes: row.scopes,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** The only code touching identity.api_keys. Every query but the key lookup is project-scoped. */
@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insert(
    record: Omit<ApiKeyRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt'>,
  ): Promise<ApiKeyRecord> {
    const rows = await this.dataSource.query<ApiKeyRow[]>(
      `INSERT INTO identity.api_keys (id, project_id, integration_id, name, key_hash, last4, scopes)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        record.id,
        record.projectId,
        record.integrationId,
        record.name,
        record.keyHash,
        record.last4,
        record.scopes,
      ],
    );
    return toRecord(rows[0] as ApiKeyRow);
  }

  /** Looks a key up by its public id, across projects: the caller proves ownership with the hash. */
  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.dataSource.query<ApiKeyRow[]>(
      `SELECT ${COLUMNS} FROM identity.api_keys WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async listByProject(projectId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.dataSource.query<ApiKeyRow[]>(
      `SELECT ${COLUMNS} FROM identity.api_keys WHERE project_id = $1 ORDER BY created_at DESC, id`,
      [projectId],
    );
    return rows.map(toRecord);
  }

  /** Revokes a key of the project; returns it, or undefined when the project has no such key. */
  async revoke(projectId: string, id: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.dataSource.query<[ApiKeyRow[], number]>(
      `UPDATE identity.api_keys SET revoked_at = COALESCE(revoked_at, now())
       WHERE project_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [projectId, id],
    );
    const row = rows[0][0];
    return row ? toRecord(row) : undefined;
  }

  /** Records use at most once a minute per key, so verification does not write on every call. */
  async touch(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE identity.api_keys SET last_used_at = now()
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  /** Ids of keys revoked within the window (their session tokens may still be unexpired). */
  async revokedSince(seconds: number): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM identity.api_keys WHERE revoked_at > now() - make_interval(secs => $1)`,
      [seconds],
    );
    return rows.map((row) => row.id);
  }
}
