import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import {
  MAX_TOOLS_PER_PROJECT,
  type AuthStrategy,
  type HttpMethod,
  type Scope,
  type ToolAnnotations,
} from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

import { queryRows } from '../common/sql.js';
import type { StoredSecret } from '../secrets/tool-secrets.js';
import type { ToolDraft } from './validation/tool-validator.js';

/** A tool as read: its head (id, live state) and one version's definition. */
export interface ToolRecord {
  readonly id: string;
  readonly project_id: string;
  readonly head_version: number;
  readonly head_is_enabled: boolean;
  readonly created_at: Date;
  readonly version: number;
  readonly version_created_at: Date;
  readonly name: string;
  readonly description: string;
  readonly method: HttpMethod;
  readonly base_url: string;
  readonly endpoint_path: string;
  readonly query_template: Record<string, string> | null;
  readonly header_template: Record<string, string> | null;
  readonly body_template: unknown;
  readonly input_schema: Record<string, unknown>;
  readonly auth_strategy: AuthStrategy;
  readonly auth_secret: string | null;
  readonly auth_secret_last4: string | null;
  readonly require_member: boolean;
  readonly is_enabled: boolean;
  readonly timeout_ms: number;
  readonly required_scope: Scope | null;
  readonly annotations: ToolAnnotations;
}

/** A new version to write: the validated definition and its sealed secret (if any). */
export interface NewToolVersion {
  readonly draft: ToolDraft;
  readonly secret: StoredSecret | null;
}

/** Outcome of a write; anything but `ok` rolled back. */
export type ToolWriteResult<T> =
  | ({ readonly kind: 'ok'; readonly toolListVersion: number } & T)
  | { readonly kind: 'project_not_found' }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'conflict'; readonly currentVersion: number }
  | { readonly kind: 'name_taken' }
  | { readonly kind: 'limit_reached' };

type Failure = Exclude<ToolWriteResult<object>, { kind: 'ok' }>;

/** Thrown inside a transaction to roll it back and hand a failure to the caller. */
class Rollback extends Error {
  constructor(readonly failure: Failure) {
    super(failure.kind);
  }
}

const RECORD_COLUMNS = `
  t.id, t.project_id, t.version AS head_version, t.is_enabled AS head_is_enabled, t.created_at,
  v.version, v.created_at AS version_created_at, v.name, v.description, v.method, v.base_url,
  v.endpoint_path, v.query_template, v.header_template, v.body_template, v.input_schema,
  v.auth_strategy, v.auth_secret, v.auth_secret_last4, v.require_member, v.is_enabled,
  v.timeout_ms, v.required_scope, v.annotations`;

const CURRENT = `registry.tools t
  JOIN registry.tool_versions v ON v.tool_id = t.id AND v.version = t.version`;

const UNIQUE_VIOLATION = '23505';
const LIVE_NAME_INDEX = 'tools_live_name';

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * The only code that touches the tool tables. Every query is scoped by project. Every write runs in
 * one transaction that first bumps the project's tool-list version: that row lock serializes the
 * project's tool writes, so version checks and the tool limit hold under concurrency.
 */
@Injectable()
export class ToolsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The live tool with this id or name, at its current version. */
  async findLive(
    projectId: string,
    by: { readonly toolId: string } | { readonly name: string },
  ): Promise<ToolRecord | null> {
    const [column, value] = 'toolId' in by ? ['t.id', by.toolId] : ['t.name', by.name];
    const rows = await this.dataSource.query<ToolRecord[]>(
      `SELECT ${RECORD_COLUMNS} FROM ${CURRENT}
        WHERE t.project_id = $1 AND t.deleted_at IS NULL AND ${column} = $2`,
      [projectId, value],
    );
    return rows[0] ?? null;
  }

  /** The live tool named `name` at `version` (an immutable past or the current definition). */
  async findVersion(projectId: string, name: string, version: number): Promise<ToolRecord | null> {
    const rows = await this.dataSource.query<ToolRecord[]>(
      `SELECT ${RECORD_COLUMNS} FROM registry.tools t
         JOIN registry.tool_versions v ON v.tool_id = t.id AND v.version = $3
        WHERE t.project_id = $1 AND t.deleted_at IS NULL AND t.name = $2`,
      [projectId, name, version],
    );
    return rows[0] ?? null;
  }

  /**
   * The tools a principal may see, and the tool-list version they were read at (one statement, so
   * one snapshot); null when the project does not exist.
   */
  async listVisible(
    projectId: string,
    scopes: readonly Scope[],
    isMember: boolean,
  ): Promise<{ toolListVersion: number; records: ToolRecord[] } | null> {
    return this.listWith(
      projectId,
      `t.is_enabled
       AND (v.required_scope IS NULL OR v.required_scope = ANY($3::text[]))
       AND (NOT v.require_member OR $4::boolean)`,
      null,
      [[...scopes], isMember],
    );
  }

  /** Up to `limit` live tools named after `afterName`, by name; null when no such project. */
  async listPage(
    projectId: string,
    afterName: string | undefined,
    limit: number,
  ): Promise<{ toolListVersion: number; records: ToolRecord[] } | null> {
    return this.listWith(projectId, '($3::text IS NULL OR t.name > $3)', limit, [
      afterName ?? null,
    ]);
  }

  /** `filter` may use $3 and later, bound to `parameters`; a null `limit` lists everything. */
  private async listWith(
    projectId: string,
    filter: string,
    limit: number | null,
    parameters: unknown[],
  ): Promise<{ toolListVersion: number; records: ToolRecord[] } | null> {
    const rows = await this.dataSource.query<
      Array<{ tool_list_version: string; record: ToolRecord | null }>
    >(
      `SELECT p.tool_list_version, to_json(x) AS record
         FROM registry.projects p
         LEFT JOIN LATERAL (
           SELECT ${RECORD_COLUMNS} FROM ${CURRENT}
            WHERE t.project_id = p.id AND t.deleted_at IS NULL AND ${filter}
            ORDER BY t.name LIMIT $2
         ) x ON true
        WHERE p.id = $1`,
      [projectId, limit, ...parameters],
    );
    const first = rows[0];
    if (!first) return null;
    return {
      toolListVersion: Number(first.tool_list_version),
      records: rows.flatMap((row) => (row.record ? [reviveDates(row.record)] : [])),
    };
  }

  /** Names of the project's live tools; null when the project does not exist. */
  async liveNames(projectId: string): Promise<string[] | null> {
    const rows = await this.dataSource.query<Array<{ name: string | null }>>(
      `SELECT t.name FROM registry.projects p
         LEFT JOIN registry.tools t ON t.project_id = p.id AND t.deleted_at IS NULL
        WHERE p.id = $1`,
      [projectId],
    );
    if (rows.length === 0) return null;
    return rows.flatMap((row) => (row.name === null ? [] : [row.name]));
  }

  /** Creates tools (all or none) as version 1 each. */
  async create(
    projectId: string,
    tools: ReadonlyArray<{ readonly id: string } & NewToolVersion>,
  ): Promise<ToolWriteResult<{ records: ToolRecord[] }>> {
    return this.write(projectId, async (manager) => {
      const [counted] = await queryRows<{ count: number }>(
        manager,
        `SELECT count(*)::int AS count FROM registry.tools WHERE project_id = $1 AND deleted_at IS NULL`,
        [projectId],
      );
      const count = counted?.count ?? 0;
      if (count + tools.length > MAX_TOOLS_PER_PROJECT)
        throw new Rollback({ kind: 'limit_reached' });
      const records: ToolRecord[] = [];
      for (const tool of tools) {
        const inserted = await queryRows<{ id: string }>(
          manager,
          `INSERT INTO registry.tools (id, project_id, name, version, is_enabled)
           VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (project_id, name) WHERE deleted_at IS NULL DO NOTHING
           RETURNING id`,
          [tool.id, projectId, tool.draft.name, tool.draft.is_enabled],
        );
        if (inserted.length === 0) throw new Rollback({ kind: 'name_taken' });
        await this.insertVersion(manager, projectId, tool.id, 1, tool);
        records.push(await this.readCurrent(manager, projectId, tool.id));
      }
      return { records };
    });
  }

  /**
   * Writes version `baseVersion + 1` of a live tool, only if its current version is still
   * `baseVersion` (`conflict` with the current version otherwise).
   */
  async update(
    projectId: string,
    toolId: string,
    baseVersion: number,
    next: NewToolVersion,
  ): Promise<ToolWriteResult<{ record: ToolRecord }>> {
    return this.write(projectId, async (manager) => {
      const updated = await queryRows<{ version: number }>(
        manager,
        `UPDATE registry.tools SET version = version + 1, name = $4, is_enabled = $5, updated_at = now()
          WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL AND version = $3
          RETURNING version`,
        [projectId, toolId, baseVersion, next.draft.name, next.draft.is_enabled],
      );
      const version = updated[0]?.version;
      if (version === undefined) throw new Rollback(await this.missOn(manager, projectId, toolId));
      await this.insertVersion(manager, projectId, toolId, version, next);
      return { record: await this.readCurrent(manager, projectId, toolId) };
    });
  }

  /**
   * Soft-deletes a live tool (at `expectedVersion` when given) and erases the secrets of all its
   * versions: nothing can call it any more.
   */
  async delete(
    projectId: string,
    toolId: string,
    expectedVersion: number | undefined,
  ): Promise<ToolWriteResult<{ version: number; name: string }>> {
    return this.write(projectId, async (manager) => {
      const deleted = await queryRows<{ version: number; name: string }>(
        manager,
        `UPDATE registry.tools
            SET version = version + 1, deleted_at = now(), updated_at = now()
          WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL
            AND ($3::int IS NULL OR version = $3)
          RETURNING version, name`,
        [projectId, toolId, expectedVersion ?? null],
      );
      const row = deleted[0];
      if (!row) throw new Rollback(await this.missOn(manager, projectId, toolId));
      await manager.query(
        `UPDATE registry.tool_versions SET auth_secret = NULL, auth_secret_last4 = NULL
          WHERE project_id = $1 AND tool_id = $2 AND auth_secret IS NOT NULL`,
        [projectId, toolId],
      );
      return { version: row.version, name: row.name };
    });
  }

  private async write<T extends object>(
    projectId: string,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<ToolWriteResult<T>> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const bumped = await queryRows<{ tool_list_version: string }>(
          manager,
          `UPDATE registry.projects SET tool_list_version = tool_list_version + 1
            WHERE id = $1 RETURNING tool_list_version`,
          [projectId],
        );
        const toolListVersion = bumped[0]?.tool_list_version;
        if (toolListVersion === undefined) throw new Rollback({ kind: 'project_not_found' });
        const result = await work(manager);
        return { kind: 'ok' as const, toolListVersion: Number(toolListVersion), ...result };
      });
    } catch (error) {
      if (error instanceof Rollback) return error.failure;
      const { code, constraint } = error as { code?: unknown; constraint?: unknown };
      if (code === UNIQUE_VIOLATION && constraint === LIVE_NAME_INDEX)
        return { kind: 'name_taken' };
      throw error;
    }
  }

  private async missOn(
    manager: EntityManager,
    projectId: string,
    toolId: string,
  ): Promise<Failure> {
    const rows = await queryRows<{ version: number }>(
      manager,
      `SELECT version FROM registry.tools WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [projectId, toolId],
    );
    const current = rows[0];
    return current ? { kind: 'conflict', currentVersion: current.version } : { kind: 'not_found' };
  }

  private async readCurrent(
    manager: EntityManager,
    projectId: string,
    toolId: string,
  ): Promise<ToolRecord> {
    const rows = await queryRows<ToolRecord>(
      manager,
      `SELECT ${RECORD_COLUMNS} FROM ${CURRENT} WHERE t.project_id = $1 AND t.id = $2`,
      [projectId, toolId],
    );
    return rows[0] as ToolRecord;
  }

  private async insertVersion(
    manager: EntityManager,
    projectId: string,
    toolId: string,
    version: number,
    next: NewToolVersion,
  ): Promise<void> {
    const { draft, secret } = next;
    await manager.query(
      `INSERT INTO registry.tool_versions (
         tool_id, version, project_id, name, description, method, base_url, endpoint_path,
         query_template, header_template, body_template, input_schema, auth_strategy,
         auth_secret, auth_secret_last4, require_member, is_enabled, timeout_ms, required_scope,
         annotations)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10::json, $11::json, $12::json, $13,
               $14, $15, $16, $17, $18, $19, $20::json)`,
      [
        toolId,
        version,
        projectId,
        draft.name,
        draft.description,
        draft.method,
        draft.base_url,
        draft.endpoint_path,
        json(draft.query_template),
        json(draft.header_template),
        json(draft.body_template),
        json(draft.input_schema),
        draft.auth_strategy,
        secret?.sealed ?? null,
        secret?.last4 ?? null,
        draft.require_member,
        draft.is_enabled,
        draft.timeout_ms,
        draft.required_scope,
        json(draft.annotations),
      ],
    );
  }
}

/** `to_json` renders timestamps as strings; records carry Dates like the other reads. */
function reviveDates(record: ToolRecord): ToolRecord {
  return {
    ...record,
    created_at: new Date(record.created_at),
    version_created_at: new Date(record.version_created_at),
  };
}
