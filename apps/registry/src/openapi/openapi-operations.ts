import {
  RESERVED_TEMPLATE_VARIABLES,
  TOOL_LIMITS,
  type HttpMethod,
  type SkippedOperation,
  type ToolAnnotations,
} from '@tengine/contracts';

import type { OpenApiDocument } from './openapi-document.js';
import { isObject, SchemaTooLargeError, toJsonSchema } from './schema-conversion.js';

/** What one operation becomes before the registration rules run (origin and auth come later). */
export interface OperationTool {
  /** e.g. `GET /pets/{petId}`. */
  readonly operation: string;
  readonly name: string;
  readonly description: string;
  readonly method: HttpMethod;
  readonly endpoint_path: string;
  readonly query_template: Record<string, string> | null;
  readonly header_template: Record<string, string> | null;
  readonly body_template: string | null;
  readonly input_schema: Record<string, unknown>;
  readonly require_member: boolean;
  readonly annotations: ToolAnnotations;
}

const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const TOOL_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Header parameters OpenAPI says to ignore: the transport and the auth strategy set them. */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const RESERVED: readonly string[] = RESERVED_TEMPLATE_VARIABLES;

type Json = Record<string, unknown>;

/** Raised while building one operation's tool: the operation is skipped with this reason. */
class SkipOperation extends Error {}

/** An OpenAPI name as a template variable: `pet-id` → `pet_id`, `1st` → `_1st`. */
function variableName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** An operationId (or method and path) under the MCP tool-name rules. */
export function toolNameFrom(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '');
  return (cleaned || 'operation').slice(0, 64);
}

/** `name`, or `name_2`, `name_3`… (kept within 64 characters) when taken. Records the result. */
export function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let index = 2; taken.has(candidate); index += 1) {
    const suffix = `_${index}`;
    candidate = `${name.slice(0, 64 - suffix.length)}${suffix}`;
  }
  taken.add(candidate);
  return candidate;
}

function serverUrlOf(servers: unknown): string {
  const first: unknown = Array.isArray(servers) ? servers[0] : undefined;
  if (!isObject(first) || typeof first['url'] !== 'string') return '/';
  const variables = isObject(first['variables']) ? first['variables'] : {};
  return first['url'].replace(/\{([^{}]+)\}/g, (_match, name: string) => {
    const variable = variables[name];
    return isObject(variable) && typeof variable['default'] === 'string' ? variable['default'] : '';
  });
}

/** The path part of the operation's server URL (e.g. `/api/v3`), prefixed to every path. */
function serverPathPrefix(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.replace(/[?#].*$/s, ''); // A relative server URL is a path.
  }
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function mergeParameters(pathItem: Json, operation: Json): Json[] {
  const byKey = new Map<string, Json>();
  for (const list of [pathItem['parameters'], operation['parameters']]) {
    if (!Array.isArray(list)) continue;
    for (const parameter of list) {
      if (isObject(parameter) && typeof parameter['name'] === 'string') {
        byKey.set(`${String(parameter['in'])}:${parameter['name']}`, parameter);
      }
    }
  }
  return [...byKey.values()];
}

function parameterSchema(parameter: Json, openapi30: boolean): Json {
  let source: unknown = parameter['schema'];
  if (source === undefined && isObject(parameter['content'])) {
    const media = Object.values(parameter['content'])[0];
    source = isObject(media) ? media['schema'] : undefined;
  }
  const schema = toJsonSchema(source ?? { type: 'string' }, openapi30);
  if (typeof parameter['description'] === 'string' && schema['description'] === undefined) {
    schema['description'] = parameter['description'];
  }
  return schema;
}

function describe(operation: Json, label: string): string {
  const parts = [operation['summary'], operation['description']].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  const text = parts.length > 0 ? parts.join('\n\n') : label;
  return text.slice(0, TOOL_LIMITS.descriptionMaxLength);
}

function annotationsFor(method: HttpMethod, operation: Json): ToolAnnotations {
  const summary = typeof operation['summary'] === 'string' ? operation['summary'].trim() : '';
  return {
    ...(summary !== '' ? { title: summary.slice(0, 200) } : {}),
    readOnlyHint: method === 'GET',
    destructiveHint: method === 'DELETE',
    idempotentHint: method === 'GET' || method === 'PUT' || method === 'DELETE',
    openWorldHint: true,
  };
}

function buildTool(
  document: OpenApiDocument,
  path: string,
  pathItem: Json,
  method: HttpMethod,
  operation: Json,
  label: string,
): OperationTool {
  const openapi30 = document.version === '3.0';
  const properties: Json = {};
  const required: string[] = [];
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const pathVariables = new Map<string, string>();
  let requireMember = false;

  const addInput = (
    variable: string,
    original: string,
    schema: Json,
    isRequired: boolean,
  ): void => {
    if (variable in properties) {
      throw new SkipOperation(
        `parameter "${original}" maps to argument "${variable}", already used`,
      );
    }
    properties[variable] = schema;
    if (isRequired) required.push(variable);
  };

  for (const parameter of mergeParameters(pathItem, operation)) {
    const name = parameter['name'] as string;
    const location = parameter['in'];
    const isRequired = parameter['required'] === true || location === 'path';
    if (location === 'cookie') {
      if (isRequired)
        throw new SkipOperation(`required cookie parameter "${name}" is not supported`);
      continue;
    }
    if (location === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    const variable = variableName(name);
    // A parameter named like a reserved variable is filled by tengine from the caller, never by the
    // model: that is what such a parameter means for a tool.
    if (RESERVED.includes(variable)) {
      if (variable === 'member_id') requireMember = true;
    } else {
      addInput(variable, name, parameterSchema(parameter, openapi30), isRequired);
    }
    const placeholder = `{{${variable}}}`;
    if (location === 'path') pathVariables.set(name, placeholder);
    else if (location === 'query') query[name] = placeholder;
    else if (location === 'header') headers[name] = placeholder;
  }

  const endpointPath = path.replace(/\{([^{}]+)\}/g, (_match, name: string) => {
    const placeholder = pathVariables.get(name);
    if (!placeholder) throw new SkipOperation(`path parameter "${name}" is not declared`);
    return placeholder;
  });

  let bodyTemplate: string | null = null;
  const requestBody = operation['requestBody'];
  if (method !== 'GET' && isObject(requestBody) && isObject(requestBody['content'])) {
    const content = requestBody['content'];
    const mediaType = Object.keys(content).find((type) => JSON_MEDIA_TYPE.test(type));
    const media = mediaType === undefined ? undefined : content[mediaType];
    if (isObject(media)) {
      const variable = 'body' in properties ? 'request_body' : 'body';
      const schema = toJsonSchema(media['schema'] ?? {}, openapi30);
      if (isObject(requestBody) && typeof requestBody['description'] === 'string') {
        schema['description'] ??= requestBody['description'];
      }
      addInput(variable, 'requestBody', schema, requestBody['required'] === true);
      bodyTemplate = `{{${variable}}}`;
    } else if (requestBody['required'] === true) {
      throw new SkipOperation(
        `request body media type ${Object.keys(content).join(', ') || '(none)'} is not supported (JSON only)`,
      );
    }
  }

  const rawName =
    typeof operation['operationId'] === 'string'
      ? operation['operationId']
      : `${method.toLowerCase()}_${path}`;
  return {
    operation: label,
    name: toolNameFrom(rawName),
    description: describe(operation, label),
    method,
    endpoint_path: `${serverPathPrefix(serverUrlOf(operation['servers'] ?? pathItem['servers'] ?? document.root['servers']))}${endpointPath}`,
    query_template: Object.keys(query).length > 0 ? query : null,
    header_template: Object.keys(headers).length > 0 ? headers : null,
    body_template: bodyTemplate,
    input_schema: {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    },
    require_member: requireMember,
    annotations: annotationsFor(method, operation),
  };
}

/**
 * One tool per operation of the document, in document order, named from `operationId` (not yet
 * made unique: see {@link uniqueName}), and the operations that cannot be tools, with the reason.
 */
export function operationTools(document: OpenApiDocument): {
  tools: OperationTool[];
  skipped: SkippedOperation[];
} {
  const tools: OperationTool[] = [];
  const skipped: SkippedOperation[] = [];
  const paths = isObject(document.root['paths']) ? document.root['paths'] : {};
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!isObject(pathItem)) continue;
    for (const openapiMethod of OPENAPI_METHODS) {
      const operation = pathItem[openapiMethod];
      if (!isObject(operation)) continue;
      const method = openapiMethod.toUpperCase();
      const label = `${method} ${path}`;
      if (!TOOL_METHODS.has(method)) {
        skipped.push({ operation: label, reason: `method ${method} is not supported by tools` });
        continue;
      }
      try {
        tools.push(buildTool(document, path, pathItem, method as HttpMethod, operation, label));
      } catch (error) {
        if (!(error instanceof SkipOperation) && !(error instanceof SchemaTooLargeError))
          throw error;
        skipped.push({ operation: label, reason: error.message });
      }
    }
  }
  return { tools, skipped };
}
