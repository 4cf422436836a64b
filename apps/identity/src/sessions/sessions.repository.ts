import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@tengine/runtime';

/** Members, used assertion ids and issued sessions. Every query is project-scoped. */
@Injectable()
export class SessionsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The member's stable id, created on first sight of (project, external id). */
  async upsertMember(projectId: string, externalId: string): Promise<string> {
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `INSERT INTO identity.members (project_id, external_id) VALUES ($1, $2)
       ON CONFLICT (project_id, external_id) DO UPDATE SET last_seen_at = now()
       RETURNING id`,
      [projectId, externalId],
    );
    return (rows[0] as { id: string }).id;
  }

  /**
   * Records an assertion's `jti` as used. True the first time only, even under concurrent
   * presentations of the same assertion (the primary key decides).
   */
  async claimAssertion(projectId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO identity.used_assertions (project_id, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING jti`,
      [projectId, jti, expiresAt],
    );
    return rows.length === 1;
  }

  async recordSession(session: {
    id: string;
    projectId: string;
    apiKeyId: string;
    memberId: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO identity.sessions (id, project_id, api_key_id, member_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [session.id, session.projectId, session.apiKeyId, session.memberId, session.expiresAt],
    );
  }

  /** Revokes a session of the project; false when the project has no such session. */
  async revokeSession(projectId: string, sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      `UPDATE identity.sessions SET revoked_at = COALESCE(revoked_at, now())
       WHERE project_id = $1 AND id = $2 RETURNING id`,
      [projectId, sessionId],
    );
    return rows[0].length === 1;
  }

  async isSessionRevoked(sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM identity.sessions WHERE id = $1 AND revoked_at IS NOT NULL`,
      [sessionId],
    );
    return rows.length > 0;
  }

  /** Revoked sessions that have not expired yet. */
  async revokedUnexpiredSessions(): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM identity.sessions WHERE revoked_at IS NOT NULL AND expires_at > now()`,
    );
    return rows.map((row) => row.id);
  }

  /** Deletes used assertion ids past their expiry (a replay of those fails on `exp` anyway). */
  async purgeExpired(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM identity.used_assertions WHERE expires_at < now() - interval '5 minutes'`,
    );
    await this.dataSource.query(
      `DELETE FROM identity.sessions WHERE expires_at < now() - interval '1 day'`,
    );
  }
}
