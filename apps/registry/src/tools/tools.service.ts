import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import {
  type CreateToolRequest,
  type GetToolRequest,
  type ListToolsRequest,
  type ListVisibleToolsRequest,
  type PatchToolRequest,
  type ResolvedTool,
  type ResolveToolRequest,
  type Tool,
  type ToolChange,
  type ToolCommandRequest,
  type ToolDeletedReply,
  type ToolPage,
  type UpdateToolRequest,
  type VisibleToolList,
} from '@tengine/contracts';

import { DEFAULT_PAGE_SIZE, invalidCursor, pageOf } from '../common/pagination.js';
import { REGISTRY_CONFIG, type RegistryConfig } from '../config/registry-config.js';
import { projectNotFound } from '../projects/project-errors.js';
import { ToolSecrets, type StoredSecret } from '../secrets/tool-secrets.js';
import { toolNotFound, unwrapWrite, versionConflict } from './tool-errors.js';
import { ToolEvents } from './tool-events.js';
import { draftOf, storedSecretOf, toTool } from './tool.mapper.js';
import { ToolsRepository, type ToolRecord } from './tools.repository.js';
import { validateToolDraft, type ToolDraft } from './validation/tool-validator.js';

/** Serialized size of one management page, so a page always fits one NATS message. */
const PAGE_BUDGET_BYTES = 512 * 1024;

/** How often an update without `expected_version` is retried when another write slipped in. */
const MAX_UNCONDITIONAL_ATTEMPTS = 5;

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A change to apply to the current version of a tool. */
interface ToolChangeSpec {
  readonly change: ToolChange;
  /** Builds the next definition from the current one. */
  readonly next: (current: ToolDraft) => ToolDraft;
  /** A new plaintext secret, `null` to remove the stored one, undefined to keep it. */
  readonly secret?: string | null | undefined;
  /** Run the registration rules (not for enable/disable, which must work on any stored tool). */
  readonly validate: boolean;
}

function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

@Injectable()
export class ToolsService {
  constructor(
    private readonly repository: ToolsRepository,
    private readonly secrets: ToolSecrets,
    private readonly events: ToolEvents,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async create(request: CreateToolRequest): Promise<Tool> {
    const { projectId, encrypted_auth_secret: secret, ...fields } = request;
    const draft = validateToolDraft(fields, {
      allowHttpHosts: this.config.allowHttpHosts,
      hasSecret: secret !== undefined,
      newSecretGiven: secret !== undefined,
    });
    const id = randomUUID();
    const stored = secret === undefined ? null : this.secrets.seal(secret, projectId, id);
    const { records, toolListVersion } = unwrapWrite(
      await this.repository.create(projectId, [{ id, draft, secret: stored }]),
      { name: draft.name },
    );
    const record = records[0] as ToolRecord;
    this.announce(record, 'created', toolListVersion);
    return toTool(record);
  }

  /** PUT: the whole definition; a left-out secret is kept. */
  update(request: UpdateToolRequest): Promise<Tool> {
    const { projectId, toolId, expected_version, encrypted_auth_secret, ...fields } = request;
    return this.change(projectId, toolId, expected_version, {
      change: 'updated',
      next: () => fields,
      secret: encrypted_auth_secret,
      validate: true,
    });
  }

  /** PATCH: only the fields given. */
  patch(request: PatchToolRequest): Promise<Tool> {
    const { projectId, toolId, expected_version, encrypted_auth_secret, ...changes } = request;
    const given = definedOnly(changes);
    return this.change(projectId, toolId, expected_version, {
      change: 'updated',
      next: (current) => ({ ...current, ...given }),
      secret: encrypted_auth_secret,
      validate: true,
    });
  }

  setEnabled(request: ToolCommandRequest, enabled: boolean): Promise<Tool> {
    return this.change(request.projectId, request.toolId, request.expected_version, {
      change: enabled ? 'enabled' : 'disabled',
      next: (current) => ({ ...current, is_enabled: enabled }),
      validate: false,
    });
  }

  async delete(request: ToolCommandRequest): Promise<ToolDeletedReply> {
    const { projectId, toolId, expected_version } = request;
    const { version, name, toolListVersion } = unwrapWrite(
      await this.repository.delete(projectId, toolId, expected_version),
      { expectedVersion: expected_version },
    );
    this.events.changed({ projectId, toolId, toolName: name, version }, 'deleted', toolListVersion);
    return { deleted: true, id: toolId, version };
  }

  async get(request: GetToolRequest): Promise<Tool> {
    const by =
      request.toolId !== undefined ? { toolId: request.toolId } : { name: request.name ?? '' };
    const record = await this.repository.findLive(request.projectId, by);
    if (!record) throw toolNotFound();
    return toTool(record);
  }

  async listVisible(request: ListVisibleToolsRequest): Promise<VisibleToolList> {
    const found = await this.repository.listVisible(
      request.projectId,
      request.scopes,
      request.isMember,
    );
    if (!found) throw projectNotFound();
    return { toolListVersion: found.toolListVersion, tools: found.records.map(toTool) };
  }

  async listAll(request: ListToolsRequest): Promise<ToolPage> {
    const limit = request.limit ?? DEFAULT_PAGE_SIZE;
    if (request.cursor !== undefined && !TOOL_NAME.test(request.cursor)) throw invalidCursor();
    const found = await this.repository.listPage(request.projectId, request.cursor, limit + 1);
    if (!found) throw projectNotFound();
    const { items, more } = pageOf(found.records, limit);
    // Tools with large schemas end a page early; the cursor carries on from there.
    const tools: Tool[] = [];
    let bytes = 0;
    for (const record of items) {
      const tool = toTool(record);
      bytes += Buffer.byteLength(JSON.stringify(tool), 'utf8');
      if (tools.length > 0 && bytes > PAGE_BUDGET_BYTES) break;
      tools.push(tool);
    }
    const cut = tools.length < items.length;
    return {
      items: tools,
      next_cursor: more || cut ? (tools[tools.length - 1]?.name ?? null) : null,
      toolListVersion: found.toolListVersion,
    };
  }

  /** The definition at a version with its plaintext secret, for the executor only. */
  async resolve(request: ResolveToolRequest): Promise<ResolvedTool> {
    const { projectId, name, version } = request;
    const current = await this.repository.findLive(projectId, { name });
    if (!current) throw toolNotFound();
    const record =
      version === undefined || version === current.version
        ? current
        : await this.repository.findVersion(projectId, name, version);
    if (!record) throw toolNotFound();
    return {
      tool: toTool(record),
      currentVersion: current.head_version,
      enabledNow: current.head_is_enabled,
      secret:
        record.auth_secret === null
          ? null
          : this.secrets.open(record.auth_secret, projectId, record.id),
    };
  }

  /**
   * Writes the next version of a tool. With `expected_version`, exactly one of several concurrent
   * writers from that version wins (the SQL update is conditional on it); without, the change is
   * reapplied to whatever version is current.
   */
  private async change(
    projectId: string,
    toolId: string,
    expectedVersion: number | undefined,
    spec: ToolChangeSpec,
  ): Promise<Tool> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.repository.findLive(projectId, { toolId });
      if (!current) throw toolNotFound();
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw versionConflict(expectedVersion, current.version);
      }
      const next = spec.next(draftOf(current));
      if (spec.change !== 'updated' && next.is_enabled === current.is_enabled) {
        return toTool(current); // Already in that state: nothing to version or announce.
      }
      const draft = spec.validate
        ? validateToolDraft(next, {
            allowHttpHosts: this.config.allowHttpHosts,
            hasSecret:
              typeof spec.secret === 'string' ||
              (spec.secret === undefined && current.auth_secret !== null),
            newSecretGiven: typeof spec.secret === 'string',
          })
        : next;
      const result = await this.repository.update(projectId, toolId, current.version, {
        draft,
        secret: this.nextSecret(projectId, toolId, current, draft, spec.secret),
      });
      if (
        result.kind === 'conflict' &&
        expectedVersion === undefined &&
        attempt < MAX_UNCONDITIONAL_ATTEMPTS
      ) {
        continue;
      }
      const { record, toolListVersion } = unwrapWrite(result, {
        expectedVersion,
        name: draft.name,
      });
      this.announce(record, spec.change, toolListVersion);
      return toTool(record);
    }
  }

  private nextSecret(
    projectId: string,
    toolId: string,
    current: ToolRecord,
    draft: ToolDraft,
    secret: string | null | undefined,
  ): StoredSecret | null {
    // A tool that no longer authenticates keeps no secret around.
    if (draft.auth_strategy === 'none' || secret === null) return null;
    if (secret === undefined) return storedSecretOf(current);
    return this.secrets.seal(secret, projectId, toolId);
  }

  private announce(record: ToolRecord, change: ToolChange, toolListVersion: number): void {
    this.events.changed(
      {
        projectId: record.project_id,
        toolId: record.id,
        toolName: record.name,
        version: record.version,
      },
      change,
      toolListVersion,
    );
  }
}
