import {
  isReservedHeader,
  RESERVED_TEMPLATE_VARIABLES,
  TOOL_ERROR_DETAILS,
  TOOL_LIMITS,
  type AuthStrategy,
  type HttpMethod,
  type Scope,
  type ToolAnnotations,
  type ValidationIssue,
} from '@tengine/contracts';

import { normalizeBaseUrl } from './base-url.js';
import { checkInputSchema, reservedInputs, schemaPropertyNames } from './input-schema.js';
import { hasMalformedPlaceholder, templateTexts, templateVariables } from './templates.js';
import { issue, toolInvalid, toolValidationFailed } from './tool-errors.js';

/** A tool definition as stored, minus its identity and its secret. */
export interface ToolDraft {
  readonly name: string;
  readonly description: string;
  readonly method: HttpMethod;
  readonly base_url: string;
  readonly endpoint_path: string;
  readonly query_template: Readonly<Record<string, string>> | null;
  readonly header_template: Readonly<Record<string, string>> | null;
  readonly body_template: unknown;
  readonly input_schema: Record<string, unknown>;
  readonly auth_strategy: AuthStrategy;
  readonly require_member: boolean;
  readonly is_enabled: boolean;
  readonly timeout_ms: number;
  readonly required_scope: Scope | null;
  readonly annotations: ToolAnnotations;
}

/** What the validator needs to know beyond the draft. */
export interface ToolValidationContext {
  /** Hosts allowed over `http://` (TENGINE_ALLOW_HTTP_HOSTS). */
  readonly allowHttpHosts: ReadonlySet<string>;
  /** The tool will have a secret after this change (kept or newly given). */
  readonly hasSecret: boolean;
  /** This request gives a new secret. */
  readonly newSecretGiven: boolean;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headerIssues(headers: Readonly<Record<string, string>> | null): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(headers ?? {})) {
    const path = `header_template.${name}`;
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) issues.push(issue(path, 'is not a valid HTTP header name'));
    else if (lower === 'authorization') {
      issues.push(
        issue(path, "cannot be templated: use auth_strategy 'bearer' with encrypted_auth_secret"),
      );
    } else if (isReservedHeader(lower)) {
      issues.push(issue(path, 'is set by tengine and cannot be templated'));
    }
  }
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (/[\r\n\0]/.test(value)) {
      issues.push(issue(`header_template.${name}`, 'must not contain CR, LF or NUL'));
    }
  }
  return issues;
}

function bodyIssues(draft: ToolDraft): ValidationIssue[] {
  if (draft.body_template === null || draft.body_template === undefined) return [];
  if (draft.method === 'GET') return [issue('body_template', 'is not allowed with method GET')];
  const bytes = Buffer.byteLength(JSON.stringify(draft.body_template), 'utf8');
  return bytes > TOOL_LIMITS.bodyTemplateMaxBytes
    ? [issue('body_template', `must be at most ${TOOL_LIMITS.bodyTemplateMaxBytes} bytes of JSON`)]
    : [];
}

function checkEndpointPath(path: string): void {
  if (!path.startsWith('/')) throw toolInvalid(TOOL_ERROR_DETAILS.endpointPathSlash);
  // "//host/x" would be read as a network-path reference, changing the host at call time.
  if (path.startsWith('//')) throw toolInvalid('endpoint_path must not start with //');
  if (/[?#]/.test(path)) {
    throw toolInvalid(
      'endpoint_path must not contain "?" or "#": put query parameters in query_template',
    );
  }
  if (/[\s\0]/.test(path)) throw toolInvalid('endpoint_path must not contain whitespace');
}

function checkSecret(draft: ToolDraft, context: ToolValidationContext): void {
  if (draft.auth_strategy === 'hmac_signature' && !context.hasSecret) {
    throw toolInvalid(TOOL_ERROR_DETAILS.hmacSecretRequired, 'encrypted_auth_secret');
  }
  if (draft.auth_strategy === 'bearer' && !context.hasSecret) {
    throw toolInvalid(TOOL_ERROR_DETAILS.bearerSecretRequired, 'encrypted_auth_secret');
  }
  if (draft.auth_strategy === 'none' && context.newSecretGiven) {
    throw toolInvalid(
      "encrypted_auth_secret is only used when auth_strategy is 'bearer' or 'hmac_signature'",
      'encrypted_auth_secret',
    );
  }
}

/**
 * Applies every registration rule to a tool definition, in the order a client fixes them: field
 * shapes and the JSON Schema (422), then the reference's 400 rules, then template variables that
 * the schema does not declare (422). Returns the draft with `base_url` normalized to its origin.
 */
export function validateToolDraft(draft: ToolDraft, context: ToolValidationContext): ToolDraft {
  checkInputSchema(draft.input_schema);
  const shapeIssues = [...bodyIssues(draft), ...headerIssues(draft.header_template)];
  if (shapeIssues.length > 0) throw toolValidationFailed(shapeIssues);

  const baseUrl = normalizeBaseUrl(draft.base_url, context.allowHttpHosts);
  checkEndpointPath(draft.endpoint_path);

  const texts = templateTexts(draft);
  const malformed = texts.filter((text) => hasMalformedPlaceholder(text.text));
  if (malformed.length > 0) {
    throw toolValidationFailed(
      malformed.map((text) =>
        issue(text.field, 'has a malformed placeholder: use {{name}} with a letter or _ first'),
      ),
    );
  }
  const usesMemberId = texts.find((text) => templateVariables(text.text).includes('member_id'));
  if (usesMemberId && !draft.require_member) {
    throw toolInvalid(TOOL_ERROR_DETAILS.memberIdWithoutMember, usesMemberId.field);
  }
  checkSecret(draft, context);
  if (reservedInputs(draft.input_schema).length > 0) {
    throw toolInvalid(TOOL_ERROR_DETAILS.reservedVariable, 'input_schema');
  }

  const reserved: readonly string[] = RESERVED_TEMPLATE_VARIABLES;
  const declared = new Set(schemaPropertyNames(draft.input_schema));
  const undeclared = texts.flatMap((text) =>
    templateVariables(text.text)
      .filter((name) => !reserved.includes(name) && !declared.has(name))
      .map((name) =>
        issue(text.field, `uses {{${name}}}, which is not a property of input_schema`),
      ),
  );
  if (undeclared.length > 0) throw toolValidationFailed(undeclared);
  return { ...draft, base_url: baseUrl };
}
