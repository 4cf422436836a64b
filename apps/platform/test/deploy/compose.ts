import { isPlain, parseYaml, readRepoFile, text, type Plain } from './repo.js';

/**
 * The subset of Docker Compose the tests need: the file parsed (anchors and `<<` merges
 * resolved), `${…}` interpolation as compose does it, and the short and long forms of
 * `environment`, `ports` and `depends_on` normalised.
 */

/** Thrown like compose's "required variable … is missing a value". */
export class MissingVariableError extends Error {}

/**
 * Compose interpolation of one string: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`; defaults may nest.
 * `unset` collects variables used without a default and left unset (compose warns and uses "").
 */
export function interpolate(
  template: string,
  variables: Readonly<Record<string, string | undefined>>,
  unset: Set<string> = new Set(),
): string {
  let out = '';
  let index = 0;
  while (index < template.length) {
    const char = template[index];
    if (char !== '$') {
      out += char;
      index += 1;
      continue;
    }
    const next = template[index + 1];
    if (next === '$') {
      out += '$';
      index += 2;
      continue;
    }
    if (next === '{') {
      let depth = 1;
      let end = index + 2;
      while (end < template.length && depth > 0) {
        if (template[end] === '{') depth += 1;
        if (template[end] === '}') depth -= 1;
        if (depth > 0) end += 1;
      }
      if (depth > 0) throw new Error(`unterminated \${ in "${template}"`);
      out += expand(template.slice(index + 2, end), variables, unset);
      index = end + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(template.slice(index + 1))?.[0];
    if (!name) throw new Error(`invalid interpolation in "${template}" (use $$ for a literal $)`);
    out += lookup(name, variables, unset);
    index += 1 + name.length;
  }
  return out;
}

function lookup(
  name: string,
  variables: Readonly<Record<string, string | undefined>>,
  unset: Set<string>,
): string {
  const value = variables[name];
  if (value === undefined) unset.add(name);
  return value ?? '';
}

function expand(
  body: string,
  variables: Readonly<Record<string, string | undefined>>,
  unset: Set<string>,
): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
  if (!match) throw new Error(`invalid interpolation \${${body}}`);
  const [, name = '', operator, argument = ''] = match;
  const value = variables[name];
  const isSet = value !== undefined;
  const isNonEmpty = isSet && value !== '';
  switch (operator) {
    case undefined:
      return lookup(name, variables, unset);
    case ':-':
      return isNonEmpty ? value : interpolate(argument, variables, unset);
    case '-':
      return isSet ? value : interpolate(argument, variables, unset);
    case ':?':
    case '?':
      if (operator === ':?' ? isNonEmpty : isSet) return value as string;
      throw new MissingVariableError(
        `required variable ${name} is missing a value: ${interpolate(argument, variables, unset)}`,
      );
    case ':+':
      return isNonEmpty ? interpolate(argument, variables, unset) : '';
    case '+':
      return isSet ? interpolate(argument, variables, unset) : '';
    default:
      throw new Error(`invalid interpolation \${${body}}`);
  }
}

/** Interpolates every string value (not keys) of a parsed compose document. */
export function interpolateDeep(
  value: unknown,
  variables: Readonly<Record<string, string | undefined>>,
  unset: Set<string> = new Set(),
): unknown {
  if (typeof value === 'string') return interpolate(value, variables, unset);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, variables, unset));
  if (isPlain(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, variables, unset)]),
    );
  }
  return value;
}

/** docker-compose.yml as parsed, before interpolation. */
export function readComposeFile(file = 'docker-compose.yml'): Plain {
  const parsed = parseYaml(readRepoFile(file), file);
  if (!isPlain(parsed) || !isPlain(parsed['services'])) {
    throw new Error(`${file} has no services`);
  }
  return parsed;
}

/** The compose model after interpolation with `variables` (the .env file and the shell). */
export function loadCompose(
  variables: Readonly<Record<string, string | undefined>>,
  file = 'docker-compose.yml',
): { model: Plain; services: Record<string, Plain>; unset: Set<string> } {
  const raw = readComposeFile(file);
  const unset = new Set<string>();
  // Top-level x- extension fields are only anchors; compose does not interpolate them.
  const withoutExtensions = Object.fromEntries(
    Object.entries(raw).filter(([key]) => !key.startsWith('x-')),
  );
  const model = interpolateDeep(withoutExtensions, variables, unset) as Plain;
  return { model, services: model['services'] as Record<string, Plain>, unset };
}

/** A service's environment as a map (`null` values are passed through from the shell). */
export function serviceEnvironment(service: Plain): Record<string, string | null> {
  const environment = service['environment'];
  if (environment === undefined) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const line = text(entry);
        const separator = line.indexOf('=');
        return separator < 0 ? [line, null] : [line.slice(0, separator), line.slice(separator + 1)];
      }),
    );
  }
  if (!isPlain(environment)) throw new Error('environment must be a map or a list');
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      value === null || value === undefined ? null : text(value),
    ]),
  );
}

/** A published port. */
export interface PublishedPort {
  readonly hostIp: string;
  readonly published: number | null;
  readonly target: number;
  readonly protocol: string;
}

/** `ports` in both syntaxes; ranges are not supported (the tests would not check them). */
export function servicePorts(service: Plain): PublishedPort[] {
  const ports = service['ports'];
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) throw new Error('ports must be a list');
  return ports.map((entry): PublishedPort => {
    if (isPlain(entry)) {
      return {
        hostIp: typeof entry['host_ip'] === 'string' ? entry['host_ip'] : '0.0.0.0',
        published: entry['published'] === undefined ? null : Number(entry['published']),
        target: Number(entry['target']),
        protocol: typeof entry['protocol'] === 'string' ? entry['protocol'] : 'tcp',
      };
    }
    const short = text(entry);
    const [mapping = '', protocol = 'tcp'] = short.split('/');
    if (mapping.includes('-')) throw new Error(`port ranges are not supported: ${short}`);
    const parts = mapping.split(':');
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : null;
    const hostIp = parts.length > 0 ? parts.join(':') : '0.0.0.0';
    return { hostIp, published, target, protocol };
  });
}

/** `depends_on` in both syntaxes: service name -> condition. */
export function serviceDependencies(service: Plain): Record<string, string> {
  const dependsOn = service['depends_on'];
  if (dependsOn === undefined) return {};
  if (Array.isArray(dependsOn)) {
    return Object.fromEntries(dependsOn.map((name) => [String(name), 'service_started']));
  }
  if (!isPlain(dependsOn)) throw new Error('depends_on must be a map or a list');
  return Object.fromEntries(
    Object.entries(dependsOn).map(([name, options]) => [
      name,
      isPlain(options) && typeof options['condition'] === 'string'
        ? options['condition']
        : 'service_started',
    ]),
  );
}
