import { containersOf, podTemplates, type KubeObject } from './kustomize.js';
import { isPinnedImage, isPlain, text, type Plain } from './repo.js';

/**
 * The project's rules for every workload in deploy/k8s, as functions returning the problems
 * found (empty when the workload complies), so that a failing test names each violation.
 */

function field(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (isPlain(node) ? node[key] : undefined), value);
}

export function podSpec(workload: KubeObject): Plain {
  const spec = field(podTemplates(workload)[0], 'spec');
  if (!isPlain(spec)) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod spec`);
  return spec;
}

function name(workload: KubeObject, container?: Plain): string {
  const base = `${workload.kind}/${workload.metadata.name}`;
  return container ? `${base} container ${String(container['name'])}` : base;
}

/** Named container ports of a container. */
export function namedPorts(container: Plain): Record<string, number> {
  const ports = Array.isArray(container['ports']) ? (container['ports'] as Plain[]) : [];
  return Object.fromEntries(
    ports
      .filter((port) => typeof port['name'] === 'string')
      .map((port) => [String(port['name']), Number(port['containerPort'])]),
  );
}

/** Readiness on /health/ready and liveness on /health/live, over HTTP, on a declared port. */
export function probeProblems(workload: KubeObject): string[] {
  const problems: string[] = [];
  for (const container of containersOf(workload)) {
    const ports = namedPorts(container);
    const expected: Array<[string, string]> = [
      ['readinessProbe', '/health/ready'],
      ['livenessProbe', '/health/live'],
    ];
    for (const [probe, path] of expected) {
      const httpGet = field(container, probe, 'httpGet');
      if (!isPlain(httpGet)) {
        problems.push(`${name(workload, container)}: no ${probe} with httpGet`);
        continue;
      }
      if (httpGet['path'] !== path) {
        problems.push(
          `${name(workload, container)}: ${probe} asks ${String(httpGet['path'])}, not ${path}`,
        );
      }
      const port = httpGet['port'];
      const declared =
        typeof port === 'string'
          ? ports[port] !== undefined
          : Object.values(ports).includes(Number(port));
      if (!declared) {
        problems.push(
          `${name(workload, container)}: ${probe} port ${String(port)} is not a declared port`,
        );
      }
    }
  }
  return problems;
}

const UNITS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity (`250m`, `2`, `512Mi`) as a number. */
export function quantity(value: unknown): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(value));
  if (!match) return Number.NaN;
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN);
}

/** CPU and memory requested and limited, limits at least the requests. */
export function resourceProblems(workload: KubeObject): string[] {
  const problems: string[] = [];
  for (const container of containersOf(workload)) {
    for (const resource of ['cpu', 'memory']) {
      const request = quantity(field(container, 'resources', 'requests', resource));
      const limit = quantity(field(container, 'resources', 'limits', resource));
      if (!(request > 0)) problems.push(`${name(workload, container)}: no ${resource} request`);
      if (!(limit > 0)) problems.push(`${name(workload, container)}: no ${resource} limit`);
      if (request > limit) {
        problems.push(`${name(workload, container)}: ${resource} request above its limit`);
      }
    }
  }
  return problems;
}

/** Images pinned by version (or digest), never `latest` or untagged. */
export function imageProblems(workload: KubeObject): string[] {
  return containersOf(workload)
    .filter((container) => !isPinnedImage(text(container['image'])))
    .map(
      (container) =>
        `${name(workload, container)}: image ${String(container['image'])} is not pinned`,
    );
}

/**
 * Non-root, no privilege escalation, every capability dropped, read-only root filesystem with
 * an emptyDir at /tmp, the runtime's seccomp profile, no service-account token, no host
 * namespaces.
 */
export function securityProblems(workload: KubeObject): string[] {
  const problems: string[] = [];
  const spec = podSpec(workload);
  const pod = isPlain(spec['securityContext']) ? spec['securityContext'] : {};
  if (spec['automountServiceAccountToken'] !== false) {
    problems.push(`${name(workload)}: automountServiceAccountToken is not false`);
  }
  for (const hostField of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[hostField] === true) problems.push(`${name(workload)}: ${hostField}`);
  }
  const volumes = Array.isArray(spec['volumes']) ? (spec['volumes'] as Plain[]) : [];
  for (const container of containersOf(workload)) {
    const own = isPlain(container['securityContext']) ? container['securityContext'] : {};
    const effective = (key: string): unknown => own[key] ?? pod[key];
    const where = name(workload, container);
    if (effective('runAsNonRoot') !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (effective('runAsUser') === 0) problems.push(`${where}: runs as uid 0`);
    if (
      field(own, 'seccompProfile', 'type') !== 'RuntimeDefault' &&
      field(pod, 'seccompProfile', 'type') !== 'RuntimeDefault'
    ) {
      problems.push(`${where}: seccomp profile is not RuntimeDefault`);
    }
    if (own['allowPrivilegeEscalation'] !== false) {
      problems.push(`${where}: allowPrivilegeEscalation is not false`);
    }
    if (own['privileged'] === true) problems.push(`${where}: privileged`);
    if (own['readOnlyRootFilesystem'] !== true) {
      problems.push(`${where}: readOnlyRootFilesystem is not true`);
    }
    const drop = field(own, 'capabilities', 'drop');
    if (!Array.isArray(drop) || !drop.includes('ALL'))
      problems.push(`${where}: does not drop ALL capabilities`);
    if (field(own, 'capabilities', 'add') !== undefined)
      problems.push(`${where}: adds capabilities`);
    const mounts = Array.isArray(container['volumeMounts'])
      ? (container['volumeMounts'] as Plain[])
      : [];
    const tmp = mounts.find((mount) => mount['mountPath'] === '/tmp');
    const volume = volumes.find((candidate) => candidate['name'] === tmp?.['name']);
    if (!tmp || !isPlain(volume?.['emptyDir']))
      problems.push(`${where}: no emptyDir mounted at /tmp`);
  }
  return problems;
}

/** `prometheus.io/*` annotations on the pod template pointing at a declared port. */
export function prometheusProblems(workload: KubeObject): string[] {
  const annotations = field(podTemplates(workload)[0], 'metadata', 'annotations');
  const where = name(workload);
  if (!isPlain(annotations)) return [`${where}: no pod annotations`];
  const problems: string[] = [];
  if (annotations['prometheus.io/scrape'] !== 'true')
    problems.push(`${where}: prometheus.io/scrape is not "true"`);
  if (annotations['prometheus.io/path'] !== '/metrics')
    problems.push(`${where}: prometheus.io/path is not /metrics`);
  const ports = containersOf(workload).flatMap((container) => Object.values(namedPorts(container)));
  if (!ports.includes(Number(annotations['prometheus.io/port']))) {
    problems.push(
      `${where}: prometheus.io/port ${String(annotations['prometheus.io/port'])} is not a container port`,
    );
  }
  return problems;
}

/** Every rule above. */
export function workloadProblems(workload: KubeObject): string[] {
  return [
    ...probeProblems(workload),
    ...resourceProblems(workload),
    ...imageProblems(workload),
    ...securityProblems(workload),
    ...prometheusProblems(workload),
  ];
}
