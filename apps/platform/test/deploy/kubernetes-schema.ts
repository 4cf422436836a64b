import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';

import type { KubeObject } from './kustomize.js';

/**
 * Validation of rendered objects against the Kubernetes OpenAPI schemas shipped by
 * kubernetes-models. Its validators check types, formats and required fields but let unknown
 * fields through (a typo such as `readinessProbes` would pass), so the objects are also checked
 * the way `kubectl apply --validate=strict` does: every field must be one the schema reads.
 */

interface Validatable {
  prototype: { validate(): void };
}

/** The kinds deploy/k8s may contain, by `apiVersion/kind`. Anything else is refused. */
const MODELS: Record<string, Validatable> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

interface Tracked {
  readonly path: string;
  readonly keys: string[];
  readonly read: Set<string>;
  enumerated: boolean;
}

/**
 * A deep copy of `value` whose objects record which properties the validator reads. Maps
 * (labels, annotations, ConfigMap data, resource quantities) are enumerated by the validator and
 * count as fully read.
 */
function tracked(value: unknown, path: string, records: Tracked[]): unknown {
  if (Array.isArray(value))
    return value.map((item, index) => tracked(item, `${path}/${index}`, records));
  if (value === null || typeof value !== 'object') return value;
  const record: Tracked = { path, keys: Object.keys(value), read: new Set(), enumerated: false };
  records.push(record);
  const copy = Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, tracked(item, `${path}/${key}`, records)]),
  );
  return new Proxy(copy, {
    get(target, property, receiver) {
      if (typeof property === 'string') record.read.add(property);
      return Reflect.get(target, property, receiver) as unknown;
    },
    has(target, property) {
      if (typeof property === 'string') record.read.add(property);
      return Reflect.has(target, property);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** Problems of one object: schema violations and unknown fields. Empty when it is valid. */
export function validateObject(object: KubeObject): string[] {
  const id = `${object.kind}/${object.metadata.name}`;
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return [`${id}: ${object.apiVersion} ${object.kind} is not an expected kind`];
  const records: Tracked[] = [];
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(object, '', records));
  } catch (error) {
    problems.push(`${id}: ${(error as Error).message}`);
  }
  for (const record of records) {
    if (record.enumerated) continue;
    for (const key of record.keys.filter((name) => !record.read.has(name))) {
      problems.push(`${id}: unknown field ${record.path}/${key}`);
    }
  }
  return problems;
}
