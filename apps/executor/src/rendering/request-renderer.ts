import {
  isReservedHeader,
  RESERVED_TEMPLATE_VARIABLES,
  type HttpMethod,
  type ToolDefinition,
} from '@tengine/contracts';

/** A JSON value (what tool arguments and body templates are made of). */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Reserved template variables, filled from the authenticated principal only. */
export type ReservedVariables = Readonly<
  Partial<Record<(typeof RESERVED_TEMPLATE_VARIABLES)[number], string>>
>;

/** What a tool's templates are rendered with. */
export interface RenderContext {
  readonly arguments: Readonly<Record<string, JsonValue>>;
  readonly reserved: ReservedVariables;
}

/** The templated parts of a tool version. */
export type ToolTemplate = Pick<
  ToolDefinition,
  'method' | 'base_url' | 'endpoint_path' | 'query_template' | 'header_template' | 'body_template'
>;

/** A request ready to be signed and sent (before identity, auth and idempotency headers). */
export interface RenderedRequest {
  readonly method: HttpMethod;
  /** `https://host[:port]`, from the tool's base URL only, never from a variable. */
  readonly origin: string;
  /** The encoded path, without the query. */
  readonly path: string;
  /** The encoded query string without `?` (empty when there is none). */
  readonly query: string;
  /** Headers from the tool's header template, in template order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The JSON body text, or null for none. */
  readonly body: string | null;
}

/** The arguments cannot be rendered into a safe request; `reason` names the field, never a value. */
export class RenderError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RenderError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const SINGLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Header values may hold visible Latin-1 and horizontal tabs only: CR/LF would split the header
// (request smuggling, header injection), other control characters are refused by HTTP parsers.
const HEADER_VALUE_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/;
const LINE_BREAK = /[\r\n\u0000]/;

/** Re-exported: the executor refuses the same headers the registry refuses at registration. */
export { isReservedHeader };

/**
 * Percent-encodes everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`). Stricter
 * than `encodeURIComponent`, which leaves `!'()*` alone.
 */
export function encodeRfc3986(text: string): string {
  try {
    return encodeURIComponent(text).replace(
      /[!'()*]/g,
      (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    // Lone UTF-16 surrogates cannot be encoded as UTF-8.
    throw new RenderError('a value is not valid Unicode text');
  }
}

/** How a value reads inside text: strings as they are, other JSON as compact JSON, null as empty. */
function textOf(value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function lookupVariable(name: string, context: RenderContext): JsonValue | undefined {
  if ((RESERVED_TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
    return context.reserved[name as keyof ReservedVariables];
  }
  return Object.prototype.hasOwnProperty.call(context.arguments, name)
    ? context.arguments[name]
    : undefined;
}

/** Replaces every placeholder with `encode(text of value)`; absent values through `onMissing`. */
function substitute(
  template: string,
  context: RenderContext,
  encode: (text: string) => string,
  onMissing: (name: string) => string,
): string {
  let result = '';
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    result += template.slice(last, match.index);
    const value = lookupVariable(name, context);
    result += value === undefined ? onMissing(name) : encode(textOf(value));
    last = match.index + match[0].length;
  }
  return result + template.slice(last);
}

/** Literal path text, with characters that are not legal in a path percent-encoded. */
function literalPath(text: string): string {
  return text.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%]/g, (character) => encodeRfc3986(character));
}

/**
 * Renders the path: each placeholder becomes exactly one segment's worth of text, with `/`, `?`,
 * `#`, `%` and everything else outside the unreserved set percent-encoded, so `../admin`, `a/b`,
 * `a?x=1` or `%2e%2e` stay inside their segment. A segment that would render as empty, `.` or
 * `..` is refused: it would change the route after normalisation.
 */
function renderPath(template: string, context: RenderContext): string {
  return template
    .split('/')
    .map((segment) => {
      if (!segment.includes('{{')) return literalPath(segment);
      let rendered = '';
      let last = 0;
      for (const match of segment.matchAll(PLACEHOLDER)) {
        const name = match[1] as string;
        rendered += literalPath(segment.slice(last, match.index));
        const value = lookupVariable(name, context);
        if (value === undefined) throw new RenderError(`path variable "${name}" has no value`);
        rendered += encodeRfc3986(textOf(value));
        last = match.index + match[0].length;
      }
      rendered += literalPath(segment.slice(last));
      if (rendered === '' || rendered === '.' || rendered === '..') {
        throw new RenderError('a path variable renders an empty, "." or ".." segment');
      }
      return rendered;
    })
    .join('/');
}

/** Renders one query entry into encoded `name=value` pairs (none for an absent optional value). */
function renderQueryEntry(name: string, template: string, context: RenderContext): string[] {
  const single = SINGLE_PLACEHOLDER.exec(template);
  if (single) {
    const value = lookupVariable(single[1] as string, context);
    if (value === undefined) return [];
    // An array fills one parameter per element: ?tag=a&tag=b.
    const values = Array.isArray(value) ? value : [value];
    return values.map((item) => `${encodeRfc3986(name)}=${encodeRfc3986(textOf(item))}`);
  }
  const text = substitute(
    template,
    context,
    (part) => part,
    () => '',
  );
  return [`${encodeRfc3986(name)}=${encodeRfc3986(text)}`];
}

/** Query entries written inline in `endpoint_path` after `?` (`/search?q={{q}}&limit=10`). */
function inlineQueryEntries(text: string): Array<[string, string]> {
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const rawName = separator === -1 ? pair : pair.slice(0, separator);
      let name: string;
      try {
        name = decodeURIComponent(rawName);
      } catch {
        name = rawName;
      }
      return [name, separator === -1 ? '' : pair.slice(separator + 1)];
    });
}

function renderHeaders(
  template: Readonly<Record<string, string>> | null,
  context: RenderContext,
): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (const [name, valueTemplate] of Object.entries(template ?? {})) {
    if (!HEADER_NAME.test(name)) throw new RenderError(`header name "${name}" is not valid`);
    if (isReservedHeader(name)) continue;
    const single = SINGLE_PLACEHOLDER.exec(valueTemplate);
    if (single && lookupVariable(single[1] as string, context) === undefined) continue;
    const value = substitute(
      valueTemplate,
      context,
      (part) => part,
      () => '',
    );
    if (LINE_BREAK.test(value))
      throw new RenderError(`header "${name}" would contain a line break`);
    if (HEADER_VALUE_FORBIDDEN.test(value)) {
      throw new RenderError(
        `header "${name}" would contain characters not allowed in HTTP headers`,
      );
    }
    headers.push([name, value.trim()]);
  }
  return headers;
}

/**
 * Renders a body template as JSON values, never by concatenating text: a string that is exactly
 * one placeholder becomes the variable's JSON value (absent: the key is left out, or `null` in an
 * array); a string with placeholders among other text stays a string. The result is serialised
 * once, so no value can break out of its JSON position.
 */
function renderBody(template: unknown, context: RenderContext): JsonValue | undefined {
  if (typeof template === 'string') {
    const single = SINGLE_PLACEHOLDER.exec(template);
    if (single) return lookupVariable(single[1] as string, context);
    return substitute(
      template,
      context,
      (part) => part,
      () => '',
    );
  }
  if (Array.isArray(template)) {
    return template.map((item) => renderBody(item, context) ?? null);
  }
  if (typeof template === 'object' && template !== null) {
    const result: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(template)) {
      const value = renderBody(item, context);
      if (value !== undefined) result[key] = value;
    }
    return result;
  }
  if (typeof template === 'number' || typeof template === 'boolean' || template === null) {
    return template;
  }
  return undefined;
}

/**
 * Renders a tool version's templates with the call's arguments and the principal's reserved
 * variables. The host always comes from `base_url`; variables only ever fill path segments, query
 * values, header values and JSON body values.
 */
export function renderRequest(tool: ToolTemplate, context: RenderContext): RenderedRequest {
  const origin = new URL(tool.base_url).origin;
  const questionMark = tool.endpoint_path.indexOf('?');
  const pathTemplate =
    questionMark === -1 ? tool.endpoint_path : tool.endpoint_path.slice(0, questionMark);
  const inline =
    questionMark === -1 ? [] : inlineQueryEntries(tool.endpoint_path.slice(questionMark + 1));
  const path = renderPath(
    pathTemplate.startsWith('/') ? pathTemplate : `/${pathTemplate}`,
    context,
  );
  const query = [...inline, ...Object.entries(tool.query_template ?? {})]
    .flatMap(([name, template]) => renderQueryEntry(name, template, context))
    .join('&');
  const headers = renderHeaders(tool.header_template, context);
  const bodyValue =
    tool.body_template === null || tool.method === 'GET'
      ? undefined
      : renderBody(tool.body_template, context);
  return {
    method: tool.method,
    origin,
    path,
    query,
    headers,
    body: bodyValue === undefined ? null : JSON.stringify(bodyValue),
  };
}
