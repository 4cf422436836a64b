import { Ajv, type AnySchemaObject, type ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { safeRegex } from 'safe-regex2';

import { RESERVED_TEMPLATE_VARIABLES, TOOL_LIMITS, type ValidationIssue } from '@tengine/contracts';

import { issue, toolValidationFailed } from './tool-errors.js';

/** OpenAPI's numeric and binary formats: annotations only, so imported schemas compile. */
const ANNOTATION_FORMATS = ['int32', 'int64', 'float', 'double', 'binary', 'password'];

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020_12 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

/** Keywords whose value is one subschema (or, for `items` in draft-07, possibly an array). */
const SUBSCHEMA_KEYWORDS = [
  'not',
  'if',
  'then',
  'else',
  'items',
  'additionalItems',
  'contains',
  'propertyNames',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];
const SUBSCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SUBSCHEMA_MAP_KEYWORDS = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
];

type AjvInstance = Ajv | Ajv2020;

// ajv-formats is CommonJS with `exports.default`; this reaches the plugin under ESM and CJS alike.
const addFormats = addFormatsPlugin.default;

function configure<T extends AjvInstance>(ajv: T): T {
  addFormats(ajv);
  for (const format of ANNOTATION_FORMATS) ajv.addFormat(format, true);
  return ajv;
}

// Shared instances: `addUsedSchema: false` and `removeSchema` after each check keep client schemas
// (and their `$id`s) from accumulating in them.
const options = { strict: false, allErrors: true, addUsedSchema: false, logger: false } as const;
let ajv2020: Ajv2020 | undefined;
let ajv07: Ajv | undefined;

function ajvFor(schema: Record<string, unknown>): AjvInstance | undefined {
  const dialect = schema['$schema'];
  if (dialect === undefined || (typeof dialect === 'string' && DRAFT_2020_12.test(dialect))) {
    return (ajv2020 ??= configure(new Ajv2020(options)));
  }
  if (typeof dialect === 'string' && DRAFT_07.test(dialect)) {
    return (ajv07 ??= configure(new Ajv(options)));
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Depth of nested objects and arrays, computed iteratively; stops counting past `limit`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const current = stack.pop() as { value: unknown; depth: number };
    if (typeof current.value !== 'object' || current.value === null) continue;
    if (current.depth >= limit) return true;
    for (const child of Object.values(current.value)) {
      stack.push({ value: child, depth: current.depth + 1 });
    }
  }
  return false;
}

function patternIssue(pattern: string, path: string): ValidationIssue | undefined {
  if (pattern.length > TOOL_LIMITS.patternMaxLength) {
    return issue(path, `must be at most ${TOOL_LIMITS.patternMaxLength} characters`);
  }
  try {
    new RegExp(pattern, 'u');
  } catch {
    return issue(path, 'must be a valid regular expression');
  }
  // Star height > 1 ("(a+)+") can backtrack exponentially on the argument the model sends.
  if (!safeRegex(pattern)) {
    return issue(path, 'is too complex: nested quantifiers can take exponential time');
  }
  return undefined;
}

/** Checks every regular expression of a schema (`pattern` and `patternProperties` keys). */
function patternIssues(root: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const stack: Array<{ schema: unknown; path: string }> = [{ schema: root, path: 'input_schema' }];
  while (stack.length > 0) {
    const { schema, path } = stack.pop() as { schema: unknown; path: string };
    if (!isObject(schema)) continue;
    if (typeof schema['pattern'] === 'string') {
      const found = patternIssue(schema['pattern'], `${path}.pattern`);
      if (found) issues.push(found);
    }
    const patternProperties = schema['patternProperties'];
    if (isObject(patternProperties)) {
      for (const key of Object.keys(patternProperties)) {
        const found = patternIssue(key, `${path}.patternProperties.${key}`);
        if (found) issues.push(found);
      }
    }
    for (const keyword of SUBSCHEMA_KEYWORDS) {
      if (isObject(schema[keyword]))
        stack.push({ schema: schema[keyword], path: `${path}.${keyword}` });
    }
    for (const keyword of SUBSCHEMA_LIST_KEYWORDS) {
      const list = schema[keyword];
      if (Array.isArray(list)) {
        list.forEach((item, index) =>
          stack.push({ schema: item, path: `${path}.${keyword}.${index}` }),
        );
      }
    }
    for (const keyword of SUBSCHEMA_MAP_KEYWORDS) {
      const map = schema[keyword];
      if (isObject(map)) {
        for (const [key, item] of Object.entries(map)) {
          stack.push({ schema: item, path: `${path}.${keyword}.${key}` });
        }
      }
    }
  }
  return issues;
}

function metaSchemaIssues(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  const byPath = new Map<string, string>();
  for (const error of errors ?? []) {
    const path = `input_schema${error.instancePath.replaceAll('/', '.')}`;
    if (!byPath.has(path)) byPath.set(path, error.message ?? 'is invalid');
  }
  return [...byPath].map(([path, message]) => issue(path, message));
}

/**
 * Checks a tool's `input_schema`: bounded size and depth, an `object` root, safe regular
 * expressions, valid against its dialect's meta-schema, and compilable by ajv (so the gateway can
 * validate arguments with it). Throws `VALIDATION_FAILED` naming each failing field.
 */
export function checkInputSchema(schema: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(schema), 'utf8');
  if (bytes > TOOL_LIMITS.inputSchemaMaxBytes) {
    throw toolValidationFailed([
      issue('input_schema', `must be at most ${TOOL_LIMITS.inputSchemaMaxBytes} bytes of JSON`),
    ]);
  }
  if (depthExceeds(schema, TOOL_LIMITS.inputSchemaMaxDepth)) {
    throw toolValidationFailed([
      issue('input_schema', `must not nest deeper than ${TOOL_LIMITS.inputSchemaMaxDepth}`),
    ]);
  }
  if (schema['type'] !== 'object') {
    throw toolValidationFailed([
      issue('input_schema.type', 'must be "object": a tool takes named arguments'),
    ]);
  }
  const ajv = ajvFor(schema);
  if (!ajv) {
    throw toolValidationFailed([
      issue('input_schema.$schema', 'must be JSON Schema draft 2020-12 or draft-07 (or left out)'),
    ]);
  }
  const patterns = patternIssues(schema);
  if (patterns.length > 0) throw toolValidationFailed(patterns);
  if (!(ajv.validateSchema(schema) as boolean)) {
    throw toolValidationFailed(metaSchemaIssues(ajv.errors));
  }
  try {
    ajv.compile(schema as AnySchemaObject);
  } catch (error) {
    throw toolValidationFailed([issue('input_schema', (error as Error).message)]);
  } finally {
    ajv.removeSchema(schema);
  }
}

/** The top-level property names of an object schema. */
export function schemaPropertyNames(schema: Record<string, unknown>): string[] {
  const properties = schema['properties'];
  return isObject(properties) ? Object.keys(properties) : [];
}

/** Reserved variables declared as inputs (the model must never supply them). */
export function reservedInputs(schema: Record<string, unknown>): string[] {
  const reserved: readonly string[] = RESERVED_TEMPLATE_VARIABLES;
  return schemaPropertyNames(schema).filter((name) => reserved.includes(name));
}
