import type { Tool, ToolDefinition } from '@tengine/contracts';

import { secretStatus } from '../secrets/tool-secrets.js';
import type { ToolRecord } from './tools.repository.js';
import type { ToolDraft } from './validation/tool-validator.js';

/** A definition as reads show it: never the secret, only whether one is set. */
export function toDefinition(
  draft: ToolDraft,
  secret: { last4: string | null } | null,
): ToolDefinition {
  return {
    name: draft.name,
    description: draft.description,
    method: draft.method,
    base_url: draft.base_url,
    endpoint_path: draft.endpoint_path,
    query_template: draft.query_template === null ? null : { ...draft.query_template },
    header_template: draft.header_template === null ? null : { ...draft.header_template },
    body_template: (draft.body_template ?? null) as ToolDefinition['body_template'],
    input_schema: draft.input_schema,
    auth_strategy: draft.auth_strategy,
    auth_secret: secretStatus(secret),
    require_member: draft.require_member,
    is_enabled: draft.is_enabled,
    timeout_ms: draft.timeout_ms,
    required_scope: draft.required_scope,
    annotations: draft.annotations,
  };
}

/** The definition fields of a stored version. */
export function draftOf(record: ToolRecord): ToolDraft {
  return {
    name: record.name,
    description: record.description,
    method: record.method,
    base_url: record.base_url,
    endpoint_path: record.endpoint_path,
    query_template: record.query_template,
    header_template: record.header_template,
    body_template: record.body_template ?? null,
    input_schema: record.input_schema,
    auth_strategy: record.auth_strategy,
    require_member: record.require_member,
    is_enabled: record.is_enabled,
    timeout_ms: record.timeout_ms,
    required_scope: record.required_scope,
    annotations: record.annotations,
  };
}

/** The stored secret of a version, or null. */
export function storedSecretOf(
  record: ToolRecord,
): { sealed: string; last4: string | null } | null {
  return record.auth_secret === null
    ? null
    : { sealed: record.auth_secret, last4: record.auth_secret_last4 };
}

/** A tool as every read returns it. */
export function toTool(record: ToolRecord): Tool {
  return {
    id: record.id,
    project_id: record.project_id,
    version: record.version,
    created_at: record.created_at.toISOString(),
    updated_at: record.version_created_at.toISOString(),
    ...toDefinition(draftOf(record), storedSecretOf(record)),
  };
}
