import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

import {
  isDirectory,
  isFile,
  isPlain,
  parseImage,
  parseYaml,
  parseYamlDocuments,
  text,
  type Plain,
} from './repo.js';

/**
 * The part of kustomize that deploy/k8s uses, rendered in TypeScript (no kustomize binary on the
 * test machines): `resources` (files and directories), `namespace`, `labels`, `images` and
 * `patches` (strategic merge, by name or by `target`). Anything else in a kustomization is
 * refused rather than silently ignored, so the tests never check a rendering kustomize would not
 * produce. Transformers run in kustomize's order: patches, namespace, labels, images.
 */

/** A rendered Kubernetes object. */
export interface KubeObject extends Plain {
  apiVersion: string;
  kind: string;
  metadata: Plain & {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'patches',
]);

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Kinds that live outside namespaces (the ones a tengine manifest could contain). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
]);

/** Workloads whose pod templates kustomize's image transformer reaches. */
const POD_TEMPLATE_PATHS: Record<string, string[][]> = {
  Deployment: [['spec', 'template']],
  StatefulSet: [['spec', 'template']],
  DaemonSet: [['spec', 'template']],
  ReplicaSet: [['spec', 'template']],
  Job: [['spec', 'template']],
  CronJob: [['spec', 'jobTemplate', 'spec', 'template']],
};

/** The kustomization file of a directory. */
export function kustomizationFile(directory: string): string {
  const file = KUSTOMIZATION_FILES.map((name) => join(directory, name)).find(isFile);
  if (!file) throw new Error(`${directory} has no kustomization.yaml`);
  return file;
}

/** Renders the kustomization in `directory`, as `kustomize build directory` would. */
export function renderKustomization(directory: string): KubeObject[] {
  return build(resolve(directory), []);
}

/** Every file a kustomization reads (resources and patches), recursively. */
export function kustomizationInputs(directory: string): string[] {
  const inputs: string[] = [];
  build(resolve(directory), [], inputs);
  return inputs;
}

function build(directory: string, stack: string[], inputs: string[] = []): KubeObject[] {
  if (stack.includes(directory)) {
    throw new Error(`kustomization cycle: ${[...stack, directory].join(' -> ')}`);
  }
  const file = kustomizationFile(directory);
  inputs.push(file);
  const kustomization = parseYaml(readFileSync(file, 'utf8'), file);
  if (!isPlain(kustomization)) throw new Error(`${file} is not a map`);
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED_FIELDS.has(key));
  if (unsupported.length > 0) {
    throw new Error(
      `${file}: fields not supported by the test renderer: ${unsupported.join(', ')}`,
    );
  }
  if (kustomization['kind'] !== undefined && kustomization['kind'] !== 'Kustomization') {
    throw new Error(`${file}: kind must be Kustomization`);
  }

  let objects: KubeObject[] = [];
  for (const entry of list(kustomization['resources'], file, 'resources')) {
    if (typeof entry !== 'string' || /^[a-z]+:\/\//.test(entry)) {
      throw new Error(`${file}: unsupported resource ${JSON.stringify(entry)}`);
    }
    const path = resolve(directory, entry);
    if (isDirectory(path)) {
      objects.push(...build(path, [...stack, directory], inputs));
    } else {
      objects.push(...readObjects(inside(directory, path, file), inputs));
    }
  }
  assertUniqueIds(objects, file);

  for (const patch of list(kustomization['patches'], file, 'patches')) {
    objects = applyPatch(objects, patch, directory, file, inputs);
  }
  if (kustomization['namespace'] !== undefined) {
    const namespace = kustomization['namespace'];
    if (typeof namespace !== 'string') throw new Error(`${file}: namespace must be a string`);
    for (const object of objects) {
      if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = namespace;
    }
  }
  for (const label of list(kustomization['labels'], file, 'labels')) {
    applyLabels(objects, label, file);
  }
  for (const image of list(kustomization['images'], file, 'images')) {
    applyImage(objects, image, file);
  }
  return objects;
}

function list(value: unknown, file: string, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: ${field} must be a list`);
  return value;
}

/** kustomize's load restrictor: files must be inside the kustomization's directory. */
function inside(directory: string, path: string, file: string): string {
  const rel = relative(directory, path);
  if (rel.startsWith('..') || rel.startsWith(sep)) {
    throw new Error(`${file}: ${path} is outside the kustomization directory`);
  }
  if (!isFile(path)) throw new Error(`${file}: ${path} does not exist`);
  return path;
}

function readObjects(path: string, inputs: string[]): KubeObject[] {
  inputs.push(path);
  return parseYamlDocuments(readFileSync(path, 'utf8'), path).map((document) => {
    if (
      !isPlain(document) ||
      typeof document['apiVersion'] !== 'string' ||
      typeof document['kind'] !== 'string' ||
      !isPlain(document['metadata']) ||
      typeof document['metadata']['name'] !== 'string'
    ) {
      throw new Error(`${path}: every document needs apiVersion, kind and metadata.name`);
    }
    return document as KubeObject;
  });
}

function objectId(object: KubeObject): string {
  const namespace = object.metadata.namespace ?? '';
  return `${groupOf(object.apiVersion)}/${object.kind}/${namespace}/${object.metadata.name}`;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

function assertUniqueIds(objects: readonly KubeObject[], file: string): void {
  const seen = new Set<string>();
  for (const object of objects) {
    const id = objectId(object);
    if (seen.has(id)) throw new Error(`${file}: resource ${id} is defined twice`);
    seen.add(id);
  }
}

// ---------------------------------------------------------------------------------------------
// patches
// ---------------------------------------------------------------------------------------------

function applyPatch(
  objects: KubeObject[],
  entry: unknown,
  directory: string,
  file: string,
  inputs: string[],
): KubeObject[] {
  if (!isPlain(entry)) throw new Error(`${file}: a patch must be a map`);
  const unknown = Object.keys(entry).filter((key) => !['path', 'patch', 'target'].includes(key));
  if (unknown.length > 0)
    throw new Error(`${file}: unsupported patch fields ${unknown.join(', ')}`);
  let documents: unknown[];
  if (typeof entry['path'] === 'string') {
    const path = inside(directory, resolve(directory, entry['path']), file);
    inputs.push(path);
    documents = parseYamlDocuments(readFileSync(path, 'utf8'), path);
  } else if (typeof entry['patch'] === 'string') {
    documents = parseYamlDocuments(entry['patch'], `${file} (inline patch)`);
  } else {
    throw new Error(`${file}: a patch needs path or patch`);
  }
  if (documents.some((document) => Array.isArray(document))) {
    throw new Error(`${file}: JSON 6902 patches are not supported by the test renderer`);
  }
  // Older kustomize versions take one strategic-merge patch per entry: keep to that.
  if (documents.length !== 1 || !isPlain(documents[0])) {
    throw new Error(`${file}: a patch file must hold exactly one document`);
  }
  const patch = documents[0];
  const target = entry['target'];
  let selected: KubeObject[];
  if (target !== undefined) {
    selected = objects.filter((object) => matchesTarget(object, target, file));
  } else {
    const metadata = isPlain(patch['metadata']) ? patch['metadata'] : {};
    selected = objects.filter(
      (object) =>
        object.kind === patch['kind'] &&
        object.metadata.name === metadata['name'] &&
        groupOf(object.apiVersion) === groupOf(text(patch['apiVersion'])) &&
        (metadata['namespace'] === undefined ||
          object.metadata.namespace === metadata['namespace']),
    );
    if (selected.length > 1) throw new Error(`${file}: a patch matches several resources`);
  }
  if (selected.length === 0) {
    throw new Error(`${file}: patch ${text(entry['path'] ?? patch['kind'])} matches 0 resources`);
  }
  return objects.map((object) => (selected.includes(object) ? patchObject(object, patch) : object));
}

function patchObject(object: KubeObject, patch: Plain): KubeObject {
  // The patch's identity does not change the target (a targeted patch may name anything).
  const { metadata, ...rest } = patch;
  const body: Plain = { ...rest };
  delete body['apiVersion'];
  delete body['kind'];
  if (isPlain(metadata)) {
    const { name: _name, namespace: _namespace, ...otherMetadata } = metadata;
    body['metadata'] = otherMetadata;
  }
  return strategicMerge(object, body, []) as KubeObject;
}

function matchesTarget(object: KubeObject, target: unknown, file: string): boolean {
  if (!isPlain(target)) throw new Error(`${file}: target must be a map`);
  const unsupported = Object.keys(target).filter(
    (key) => !['group', 'version', 'kind', 'name', 'namespace', 'labelSelector'].includes(key),
  );
  if (unsupported.length > 0) {
    throw new Error(`${file}: unsupported target fields ${unsupported.join(', ')}`);
  }
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  const fields: Array<[unknown, string | undefined]> = [
    [target['group'], group],
    [target['version'], version],
    [target['kind'], object.kind],
    [target['name'], object.metadata.name],
    [target['namespace'], object.metadata.namespace ?? ''],
  ];
  // kustomize reads these selector fields as anchored regular expressions.
  for (const [pattern, value] of fields) {
    if (pattern === undefined) continue;
    if (!new RegExp(`^(?:${text(pattern)})$`).test(value ?? '')) return false;
  }
  if (target['labelSelector'] !== undefined) {
    const labels = object.metadata.labels ?? {};
    for (const requirement of text(target['labelSelector']).split(',')) {
      const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$/.exec(requirement);
      if (!match) throw new Error(`${file}: unsupported labelSelector "${requirement}"`);
      const [, key = '', operator, value] = match;
      if ((operator === '!=') === (labels[key] === value)) return false;
    }
  }
  return true;
}

/**
 * Merge keys of the lists this repository patches (from the Kubernetes API's
 * x-kubernetes-patch-merge-key); other lists are replaced, as strategic merge does.
 */
function mergeKey(path: readonly string[]): string | null {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field ?? '') {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports':
      return parent === 'containers' || parent === 'initContainers' ? 'containerPort' : 'port';
    default:
      return null;
  }
}

/** Strategic merge patch of plain data: maps merge, `null` deletes, keyed lists merge by key. */
export function strategicMerge(target: unknown, patch: unknown, path: readonly string[]): unknown {
  if (isPlain(patch)) {
    const base: Plain = isPlain(target) ? structuredClone(target) : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) {
        throw new Error(`patch directive ${key} (at ${path.join('.')}) is not supported`);
      }
      if (value === null) delete base[key];
      else base[key] = strategicMerge(base[key], value, [...path, key]);
    }
    return base;
  }
  if (Array.isArray(patch)) {
    const key = mergeKey(path);
    if (key === null || !Array.isArray(target)) return structuredClone(patch);
    const merged: unknown[] = structuredClone(target);
    for (const item of patch) {
      if (!isPlain(item) || item[key] === undefined) {
        throw new Error(`patch list ${path.join('.')} needs "${key}" in every item`);
      }
      const index = merged.findIndex(
        (existing) => isPlain(existing) && existing[key] === item[key],
      );
      if (index < 0) merged.push(structuredClone(item));
      // Items keep the list's path, so that e.g. containers[].ports finds its merge key.
      else merged[index] = strategicMerge(merged[index], item, path);
    }
    return merged;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------------
// labels and images
// ---------------------------------------------------------------------------------------------

function applyLabels(objects: KubeObject[], entry: unknown, file: string): void {
  if (!isPlain(entry) || !isPlain(entry['pairs'])) throw new Error(`${file}: labels need pairs`);
  const unknown = Object.keys(entry).filter(
    (key) => !['pairs', 'includeSelectors', 'includeTemplates'].includes(key),
  );
  if (unknown.length > 0)
    throw new Error(`${file}: unsupported labels fields ${unknown.join(', ')}`);
  if (entry['includeSelectors'] === true) {
    // Selectors are immutable on a Deployment; the manifests never change them.
    throw new Error(`${file}: labels with includeSelectors are not supported by the test renderer`);
  }
  const pairs = Object.fromEntries(
    Object.entries(entry['pairs']).map(([key, value]) => [key, String(value)]),
  );
  for (const object of objects) {
    object.metadata.labels = { ...object.metadata.labels, ...pairs };
    if (entry['includeTemplates'] === true) {
      // kustomize's field spec is spec/template/metadata/labels, never created when absent.
      const template = (object['spec'] as Plain | undefined)?.['template'];
      const metadata = isPlain(template) ? template['metadata'] : undefined;
      if (isPlain(metadata) && isPlain(metadata['labels'])) {
        metadata['labels'] = { ...metadata['labels'], ...pairs };
      }
    }
  }
}

/** The pod templates of a workload (empty for other kinds). */
export function podTemplates(object: KubeObject): Plain[] {
  return (POD_TEMPLATE_PATHS[object.kind] ?? [])
    .map((path) =>
      path.reduce<unknown>((node, key) => (isPlain(node) ? node[key] : undefined), object),
    )
    .filter(isPlain);
}

/** Every container (init containers included) of a workload. */
export function containersOf(object: KubeObject): Plain[] {
  return podTemplates(object).flatMap((template) => {
    const spec = isPlain(template['spec']) ? template['spec'] : {};
    return ['initContainers', 'containers'].flatMap((field) =>
      Array.isArray(spec[field]) ? (spec[field] as unknown[]).filter(isPlain) : [],
    );
  });
}

function applyImage(objects: KubeObject[], entry: unknown, file: string): void {
  if (!isPlain(entry) || typeof entry['name'] !== 'string') {
    throw new Error(`${file}: an images entry needs a name`);
  }
  const unknown = Object.keys(entry).filter(
    (key) => !['name', 'newName', 'newTag', 'digest'].includes(key),
  );
  if (unknown.length > 0)
    throw new Error(`${file}: unsupported images fields ${unknown.join(', ')}`);
  for (const container of objects.flatMap(containersOf)) {
    const image = text(container['image']);
    const { name, tag, digest } = parseImage(image);
    if (name !== entry['name']) continue;
    const newName = typeof entry['newName'] === 'string' ? entry['newName'] : name;
    if (entry['digest'] !== undefined) {
      container['image'] = `${newName}@${text(entry['digest'])}`;
    } else if (entry['newTag'] !== undefined) {
      container['image'] = `${newName}:${text(entry['newTag'])}`;
    } else {
      container['image'] =
        `${newName}${tag === null ? '' : `:${tag}`}${digest === null ? '' : `@${digest}`}`;
    }
  }
}
