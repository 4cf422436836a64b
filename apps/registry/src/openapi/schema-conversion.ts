/**
 * Turns OpenAPI schemas (dereferenced, possibly cyclic object graphs) into self-contained JSON
 * Schema 2020-12 for a tool's `input_schema`.
 */

/** Nodes one converted schema may have; a shared subschema counts once per use. */
export const MAX_SCHEMA_NODES = 4_000;
/** Nesting of schema objects kept before the rest is cut. */
const MAX_SCHEMA_DEPTH = 16;

/** OpenAPI-only keywords with no JSON Schema meaning for argument validation. */
const DROPPED_KEYWORDS = new Set(['discriminator', 'xml', 'externalDocs']);
/** Keywords whose value is data, copied verbatim (never walked as schemas). */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

/** Raised when a schema expands past {@link MAX_SCHEMA_NODES}. */
export class SchemaTooLargeError extends Error {
  constructor() {
    super(`its input schema expands to more than ${MAX_SCHEMA_NODES} nodes`);
    this.name = 'SchemaTooLargeError';
  }
}

type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function copyData(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return undefined; // Not plain data (a cycle): the annotation is dropped, not the tool.
  }
}

interface ConversionState {
  readonly openapi30: boolean;
  nodes: number;
}

/** OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum`, as 2020-12. */
function fix30(source: JsonObject, target: JsonObject): void {
  if (source['nullable'] === true) {
    if (typeof target['type'] === 'string') target['type'] = [target['type'], 'null'];
    if (Array.isArray(target['enum']) && !target['enum'].includes(null)) target['enum'].push(null);
  }
  delete target['nullable'];
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof source[exclusive] !== 'boolean') continue;
    delete target[exclusive];
    if (source[exclusive] && typeof source[bound] === 'number') {
      target[exclusive] = source[bound];
      delete target[bound];
    }
  }
}

function convert(
  value: unknown,
  ancestors: Set<object>,
  depth: number,
  state: ConversionState,
): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => convert(item, ancestors, depth + 1, state));
  }
  if (!isObject(value)) return value;
  // A schema that contains itself (a recursive $ref, resolved to a cycle) is cut where it repeats.
  if (ancestors.has(value) || depth > MAX_SCHEMA_DEPTH) {
    return { description: 'Recursive or deeply nested structure (not expanded further).' };
  }
  state.nodes += 1;
  if (state.nodes > MAX_SCHEMA_NODES) throw new SchemaTooLargeError();
  if (typeof value['$ref'] === 'string') {
    // Only references outside the document remain after dereferencing; they are never fetched.
    return { description: `Unresolved reference ${value['$ref']} (any value accepted).` };
  }
  ancestors.add(value);
  const target: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (DROPPED_KEYWORDS.has(key) || key === '$schema' || key === '$id') continue;
    if (key === 'example') {
      const example = copyData(child);
      if (example !== undefined && !('examples' in value)) target['examples'] = [example];
    } else if (DATA_KEYWORDS.has(key)) {
      const data = copyData(child);
      if (data !== undefined) target[key] = data;
    } else {
      target[key] = convert(child, ancestors, depth + 1, state);
    }
  }
  ancestors.delete(value);
  if (state.openapi30) fix30(value, target);
  return target;
}

/**
 * A self-contained copy of an OpenAPI schema as JSON Schema 2020-12: cycles cut, external `$ref`s
 * replaced, 3.0 keywords translated. Throws {@link SchemaTooLargeError} past the node budget.
 */
export function toJsonSchema(schema: unknown, openapi30: boolean): JsonObject {
  const converted = convert(schema ?? {}, new Set(), 0, { openapi30, nodes: 0 });
  return isObject(converted) ? converted : {};
}
