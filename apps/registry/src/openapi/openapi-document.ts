import { compileErrors, dereference, validate, type ParserOptions } from '@readme/openapi-parser';
import { parse as parseYaml } from 'yaml';

import { DomainError } from '@tengine/contracts';

import { isObject } from './schema-conversion.js';

/** A parsed, validated and dereferenced OpenAPI 3.0/3.1 document (possibly with cycles). */
export interface OpenApiDocument {
  readonly version: '3.0' | '3.1';
  readonly root: Record<string, unknown>;
}

const MAX_ERROR_LENGTH = 2_000;

const PARSER_OPTIONS: ParserOptions = {
  // References are resolved inside the document only: an import never reads files or the network.
  resolve: { external: false, file: false },
  dereference: { circular: true },
  timeoutMs: 10_000,
  validate: {
    rules: {
      // The importer copes with these (de-duplicated names, operations skipped with a reason).
      openapi: {
        'array-without-items': 'warning',
        'duplicate-operation-id': 'warning',
        'path-parameters-not-in-parameters': 'warning',
        'path-parameters-not-in-path': 'warning',
        'non-optional-path-parameters': 'warning',
      },
    },
  },
};

function invalid(message: string, cause?: unknown): DomainError {
  const text =
    message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
  return new DomainError('REGISTRY_OPENAPI_INVALID', `The OpenAPI document is invalid: ${text}`, {
    cause,
  });
}

/** JSON or YAML text to plain JSON data (aliases bounded, cycles and non-JSON values refused). */
function parseText(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = text.trimStart().startsWith('{')
      ? JSON.parse(text)
      : parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    throw invalid(`it is neither JSON nor YAML (${(error as Error).message})`, error);
  }
  try {
    // YAML may build shared or cyclic nodes through anchors; the parser gets a plain tree.
    return JSON.parse(JSON.stringify(parsed)) as unknown;
  } catch (error) {
    throw invalid('it contains recursive YAML aliases', error);
  }
}

/**
 * Parses an OpenAPI document, validates it against the OpenAPI 3.0/3.1 schemas with
 * `@readme/openapi-parser`, and resolves its internal `$ref`s. Circular references become cycles in
 * the returned object graph (see `toJsonSchema`). Throws `REGISTRY_OPENAPI_INVALID` with the reason.
 */
export async function loadOpenApiDocument(text: string): Promise<OpenApiDocument> {
  const data = parseText(text);
  if (!isObject(data)) throw invalid('the top level must be an object');
  const declared = data['openapi'];
  const version =
    typeof declared === 'string' && /^3\.0\.\d+/.test(declared)
      ? '3.0'
      : typeof declared === 'string' && /^3\.1\.\d+/.test(declared)
        ? '3.1'
        : undefined;
  if (!version) {
    throw invalid(
      `only OpenAPI 3.0 and 3.1 are supported (found ${
        typeof data['swagger'] === 'string'
          ? `Swagger ${data['swagger']}`
          : `openapi: ${String(declared)}`
      })`,
    );
  }
  try {
    const result = await validate(structuredClone(data) as never, PARSER_OPTIONS);
    if (!result.valid) throw invalid(compileErrors(result));
    const root = (await dereference(structuredClone(data) as never, PARSER_OPTIONS)) as unknown;
    if (!isObject(root)) throw invalid('the top level must be an object');
    return { version, root };
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw invalid((error as Error).message, error);
  }
}
