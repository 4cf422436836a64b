import { isPlain, text, type Plain } from './repo.js';
import type { KubeObject } from './kustomize.js';

/** Where a variable's value comes from. */
export type EnvSource = 'literal' | 'configMap' | 'secret' | 'field';

/** A container's environment as the kubelet would build it. */
export interface ContainerEnvironment {
  readonly values: Record<string, string>;
  readonly sources: Record<string, EnvSource>;
  /** Literal values as written, before `$(VAR)` expansion. */
  readonly literals: Record<string, string>;
  readonly problems: string[];
}

/**
 * Builds a container's environment like the kubelet: `envFrom` first, then `env` in order, with
 * `$(VAR)` expanded from the variables defined before it. ConfigMaps come from the rendered
 * objects; Secrets (never rendered) from `secrets`, by Secret name and key.
 */
export function containerEnvironment(
  container: Plain,
  objects: readonly KubeObject[],
  secrets: Readonly<Record<string, Readonly<Record<string, string>>>>,
): ContainerEnvironment {
  const values: Record<string, string> = {};
  const sources: Record<string, EnvSource> = {};
  const literals: Record<string, string> = {};
  const problems: string[] = [];
  const configMap = (mapName: string): Record<string, string> | undefined => {
    const found = objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name === mapName,
    );
    return found && isPlain(found['data']) ? (found['data'] as Record<string, string>) : undefined;
  };

  for (const entry of Array.isArray(container['envFrom'])
    ? (container['envFrom'] as Plain[])
    : []) {
    const prefix = typeof entry['prefix'] === 'string' ? entry['prefix'] : '';
    if (isPlain(entry['configMapRef'])) {
      const data = configMap(String(entry['configMapRef']['name']));
      if (!data)
        problems.push(
          `envFrom: ConfigMap ${String(entry['configMapRef']['name'])} is not rendered`,
        );
      for (const [key, value] of Object.entries(data ?? {})) {
        values[prefix + key] = String(value);
        sources[prefix + key] = 'configMap';
      }
    } else if (isPlain(entry['secretRef'])) {
      const data = secrets[String(entry['secretRef']['name'])];
      if (!data)
        problems.push(`envFrom: Secret ${String(entry['secretRef']['name'])} is not documented`);
      for (const [key, value] of Object.entries(data ?? {})) {
        values[prefix + key] = value;
        sources[prefix + key] = 'secret';
      }
    }
  }

  for (const entry of Array.isArray(container['env']) ? (container['env'] as Plain[]) : []) {
    const variable = String(entry['name']);
    const from = entry['valueFrom'];
    if (isPlain(from)) {
      if (isPlain(from['configMapKeyRef'])) {
        const reference = from['configMapKeyRef'];
        const value = configMap(String(reference['name']))?.[String(reference['key'])];
        if (value === undefined) {
          problems.push(
            `${variable}: ConfigMap ${String(reference['name'])} has no key ${String(reference['key'])}`,
          );
        }
        values[variable] = String(value ?? '');
        sources[variable] = 'configMap';
      } else if (isPlain(from['secretKeyRef'])) {
        const reference = from['secretKeyRef'];
        const value = secrets[String(reference['name'])]?.[String(reference['key'])];
        if (value === undefined) {
          problems.push(
            `${variable}: Secret ${String(reference['name'])} has no documented key ${String(reference['key'])}`,
          );
        }
        values[variable] = value ?? '';
        sources[variable] = 'secret';
      } else {
        values[variable] = `<${Object.keys(from).join(',')}>`;
        sources[variable] = 'field';
      }
      continue;
    }
    const literal = text(entry['value']);
    literals[variable] = literal;
    values[variable] = literal.replace(
      /\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
      (whole, name?: string) => {
        if (name === undefined) return '$';
        // The kubelet leaves references to undefined variables as they are.
        return values[name] ?? whole;
      },
    );
    sources[variable] = 'literal';
    const unresolved = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/.exec(values[variable]);
    if (unresolved) problems.push(`${variable}: $(${unresolved[1]}) is not defined before it`);
  }
  return { values, sources, literals, problems };
}

/** `$(VAR)` references in a literal env value. */
export function references(literal: string): string[] {
  return [...literal.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((match) => match[1] ?? '');
}
