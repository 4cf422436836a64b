import { TOOL_LIMITS } from '@tengine/contracts';

import { issue, toolValidationFailed } from './tool-errors.js';

/** `{{ name }}`: a template placeholder. Names are identifiers, so they map to schema properties. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** One template string of a tool and the field it sits in (`query_template.limit`, …). */
export interface TemplateText {
  readonly field: string;
  readonly text: string;
}

/** The placeholder names a template uses, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}

/** True when the template has `{{` or `}}` that is not part of a well-formed placeholder. */
export function hasMalformedPlaceholder(template: string): boolean {
  const rest = template.replace(PLACEHOLDER, '');
  return rest.includes('{{') || rest.includes('}}');
}

/**
 * Every string leaf of a body template with its path, walking iteratively (no recursion on client
 * input) and refusing nesting deeper than the schema bound.
 */
function bodyStrings(body: unknown): TemplateText[] {
  const found: TemplateText[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: body, path: 'body_template', depth: 0 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (depth > TOOL_LIMITS.inputSchemaMaxDepth) {
      throw toolValidationFailed([
        issue('body_template', `must not nest deeper than ${TOOL_LIMITS.inputSchemaMaxDepth}`),
      ]);
    }
    if (typeof value === 'string') found.push({ field: path, text: value });
    else if (Array.isArray(value)) {
      value.forEach((item, index) =>
        stack.push({ value: item, path: `${path}.${index}`, depth: depth + 1 }),
      );
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return found;
}

/** The templated parts of a tool definition. */
export interface TemplatedFields {
  readonly endpoint_path: string;
  readonly query_template: Readonly<Record<string, string>> | null;
  readonly header_template: Readonly<Record<string, string>> | null;
  readonly body_template: unknown;
}

/** Every template string of a tool, each with the field it belongs to. */
export function templateTexts(fields: TemplatedFields): TemplateText[] {
  return [
    { field: 'endpoint_path', text: fields.endpoint_path },
    ...Object.entries(fields.query_template ?? {}).map(([key, text]) => ({
      field: `query_template.${key}`,
      text,
    })),
    ...Object.entries(fields.header_template ?? {}).map(([key, text]) => ({
      field: `header_template.${key}`,
      text,
    })),
    ...(fields.body_template === null || fields.body_template === undefined
      ? []
      : bodyStrings(fields.body_template)),
  ];
}
