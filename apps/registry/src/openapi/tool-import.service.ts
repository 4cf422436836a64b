import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import {
  DomainError,
  MAX_TOOLS_PER_PROJECT,
  OPENAPI_IMPORT_MAX_TOOLS,
  TOOL_ERROR_DETAILS,
  TOOL_LIMITS,
  type ImportedTool,
  type ImportToolsReply,
  type ImportToolsRequest,
} from '@tengine/contracts';

import { REGISTRY_CONFIG, type RegistryConfig } from '../config/registry-config.js';
import { projectNotFound } from '../projects/project-errors.js';
import { lastFour, ToolSecrets } from '../secrets/tool-secrets.js';
import { unwrapWrite } from '../tools/tool-errors.js';
import { ToolEvents } from '../tools/tool-events.js';
import { toDefinition } from '../tools/tool.mapper.js';
import { ToolsRepository } from '../tools/tools.repository.js';
import { normalizeBaseUrl } from '../tools/validation/base-url.js';
import { toolInvalid } from '../tools/validation/tool-errors.js';
import { validateToolDraft, type ToolDraft } from '../tools/validation/tool-validator.js';
import { loadOpenApiDocument } from './openapi-document.js';
import { operationTools, uniqueName, type OperationTool } from './openapi-operations.js';

/** Serialized size of the created tools one reply may carry (one NATS message). */
const REPLY_BUDGET_BYTES = 640 * 1024;

interface Accepted {
  readonly operation: string;
  readonly draft: ToolDraft;
}

/** Turns an OpenAPI document into tools: one per operation, validated like any other tool. */
@Injectable()
export class ToolImportService {
  constructor(
    private readonly repository: ToolsRepository,
    private readonly secrets: ToolSecrets,
    private readonly events: ToolEvents,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async import(request: ImportToolsRequest): Promise<ImportToolsReply> {
    const { projectId, auth_strategy: authStrategy, encrypted_auth_secret: secret } = request;
    const baseUrl = normalizeBaseUrl(request.base_url, this.config.allowHttpHosts);
    if (authStrategy === 'hmac_signature' && secret === undefined) {
      throw toolInvalid(TOOL_ERROR_DETAILS.hmacSecretRequired, 'encrypted_auth_secret');
    }
    if (authStrategy === 'bearer' && secret === undefined) {
      throw toolInvalid(TOOL_ERROR_DETAILS.bearerSecretRequired, 'encrypted_auth_secret');
    }
    const storeSecret = authStrategy === 'none' ? undefined : secret;
    const document = await loadOpenApiDocument(request.document);
    const existing = await this.repository.liveNames(projectId);
    if (existing === null) throw projectNotFound();

    const { tools, skipped } = operationTools(document);
    const taken = new Set(existing);
    const room = Math.min(OPENAPI_IMPORT_MAX_TOOLS, MAX_TOOLS_PER_PROJECT - existing.length);
    const accepted: Accepted[] = [];
    let replyBytes = 0;
    for (const tool of tools) {
      const reason = this.admit(tool, accepted.length, room, replyBytes);
      if (reason !== undefined) {
        skipped.push({ operation: tool.operation, reason });
        continue;
      }
      const outcome = this.validate(tool, {
        baseUrl,
        authStrategy,
        isEnabled: request.is_enabled,
        hasSecret: storeSecret !== undefined,
      });
      if ('reason' in outcome) {
        skipped.push({ operation: tool.operation, reason: outcome.reason });
        continue;
      }
      const draft = { ...outcome.draft, name: uniqueName(outcome.draft.name, taken) };
      accepted.push({ operation: tool.operation, draft });
      replyBytes += Buffer.byteLength(JSON.stringify(draft), 'utf8');
    }

    const secretStatus = storeSecret === undefined ? null : { last4: lastFour(storeSecret) };
    if (request.dry_run || accepted.length === 0) {
      return {
        dry_run: request.dry_run,
        created: accepted.map((item) => ({
          operation: item.operation,
          id: null,
          version: null,
          definition: toDefinition(item.draft, secretStatus),
        })),
        skipped,
      };
    }
    return {
      dry_run: false,
      created: await this.create(projectId, accepted, storeSecret),
      skipped,
    };
  }

  /** Why an operation cannot be taken any more, or undefined while there is room. */
  private admit(
    tool: OperationTool,
    count: number,
    room: number,
    replyBytes: number,
  ): string | undefined {
    if (count >= room) {
      return room < OPENAPI_IMPORT_MAX_TOOLS
        ? `the project would exceed ${MAX_TOOLS_PER_PROJECT} tools`
        : `an import creates at most ${OPENAPI_IMPORT_MAX_TOOLS} tools; import the rest separately`;
    }
    if (replyBytes + Buffer.byteLength(JSON.stringify(tool), 'utf8') > REPLY_BUDGET_BYTES) {
      return 'the import is too large for one request; import the rest separately';
    }
    return undefined;
  }

  private validate(
    tool: OperationTool,
    options: {
      baseUrl: string;
      authStrategy: ToolDraft['auth_strategy'];
      isEnabled: boolean;
      hasSecret: boolean;
    },
  ): { draft: ToolDraft } | { reason: string } {
    const { operation: _operation, ...fields } = tool;
    try {
      const draft = validateToolDraft(
        {
          ...fields,
          base_url: options.baseUrl,
          auth_strategy: options.authStrategy,
          is_enabled: options.isEnabled,
          timeout_ms: TOOL_LIMITS.timeoutDefaultMs,
          required_scope: null,
        },
        {
          allowHttpHosts: this.config.allowHttpHosts,
          hasSecret: options.hasSecret,
          newSecretGiven: options.hasSecret,
        },
      );
      return { draft };
    } catch (error) {
      if (error instanceof DomainError) return { reason: error.message };
      throw error;
    }
  }

  private async create(
    projectId: string,
    accepted: readonly Accepted[],
    secret: string | undefined,
  ): Promise<ImportedTool[]> {
    const rows = accepted.map((item) => {
      const id = randomUUID();
      return {
        id,
        operation: item.operation,
        draft: item.draft,
        secret: secret === undefined ? null : this.secrets.seal(secret, projectId, id),
      };
    });
    const { records, toolListVersion } = unwrapWrite(
      await this.repository.create(projectId, rows),
      {},
    );
    for (const record of records) {
      this.events.changed(
        { projectId, toolId: record.id, toolName: record.name, version: record.version },
        'created',
        toolListVersion,
      );
    }
    return rows.map((row, index) => ({
      operation: row.operation,
      id: row.id,
      version: records[index]?.version ?? 1,
      definition: toDefinition(row.draft, row.secret),
    }));
  }
}
