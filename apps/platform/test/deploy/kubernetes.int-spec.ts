import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { loadEnv } from '@tengine/config';
import { RUNS_STREAM_DEFAULT_NAME, RunsStream } from '@tengine/contracts';

import {
  appEnvShape,
  BACKENDS,
  DEFAULT_PORTS,
  EXTRA_VARIABLES,
  looksSecret,
  requiredFor,
  sampleSecrets,
  sensitiveVariables,
  SERVICES,
  type EnvShape,
  type ServiceName,
} from './app-env.js';
import { containerEnvironment, references } from './kubernetes-env.js';
import { validateObject } from './kubernetes-schema.js';
import {
  containersOf,
  kustomizationInputs,
  podTemplates,
  renderKustomization,
  type KubeObject,
} from './kustomize.js';
import { allows, opensToEverywhere, policiesFor, type Peer, type Pod } from './network-policy.js';
import {
  isPlain,
  parseImage,
  parseYamlDocuments,
  readRepoFile,
  repoPath,
  rootPackage,
  type Plain,
} from './repo.js';
import { namedPorts, podSpec, workloadProblems } from './workload-rules.js';

// Renders deploy/k8s (kustomize base + overlays) in TypeScript and checks every object against
// the Kubernetes schemas and the project's rules. No cluster is needed.

const K8S = repoPath('deploy', 'k8s');
const OVERLAYS = { dev: 'tengine-dev', production: 'tengine' } as const;
const SECRET_NAME = 'tengine-secrets';
const SECRET_EXAMPLE = join('deploy', 'k8s', 'base', 'secret.example.yaml');

/** Secret keys documented in secret.example.yaml, each with a valid sample value. */
function documentedSecrets(): Record<string, Record<string, string>> {
  const [secret] = parseYamlDocuments(readRepoFile(SECRET_EXAMPLE), SECRET_EXAMPLE) as Plain[];
  const data = (secret?.['stringData'] ?? secret?.['data']) as Record<string, string>;
  const samples = sampleSecrets();
  return {
    [String((secret?.['metadata'] as Plain)['name'])]: Object.fromEntries(
      Object.keys(data).map((key) => [key, samples[key] ?? `no sample value for ${key}`]),
    ),
  };
}

function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

function named(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
}

function templateLabels(workload: KubeObject): Record<string, string> {
  const metadata = podTemplates(workload)[0]?.['metadata'];
  return (isPlain(metadata) ? metadata['labels'] : {}) as Record<string, string>;
}

function selectsPods(selector: unknown, labels: Record<string, string>): boolean {
  if (!isPlain(selector)) return false;
  const matchLabels = (selector['matchLabels'] ?? selector) as Record<string, string>;
  return (
    Object.keys(matchLabels).length > 0 &&
    Object.entries(matchLabels).every(([key, value]) => labels[key] === value)
  );
}

function mainContainer(workload: KubeObject): Plain {
  const [container] = containersOf(workload);
  if (!container) throw new Error(`${workload.metadata.name} has no container`);
  return container;
}

/** Every pod of the rendered Deployments, for the network checks. */
function podsOf(objects: readonly KubeObject[]): Map<string, Pod> {
  return new Map(
    ofKind(objects, 'Deployment').map((deployment) => [
      deployment.metadata.name,
      {
        namespace: deployment.metadata.namespace ?? '',
        labels: templateLabels(deployment),
        ports: Object.assign({}, ...containersOf(deployment).map(namedPorts)) as Record<
          string,
          number
        >,
      },
    ]),
  );
}

const inNamespace = (namespace: string, labels: Record<string, string> = {}): Peer => ({
  kind: 'pod',
  namespace,
  namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  labels,
});
const NATS: Peer = inNamespace('nats', { 'app.kubernetes.io/name': 'nats' });
const POSTGRES: Peer = inNamespace('postgres', { 'cnpg.io/cluster': 'tengine-pg' });
const DNS: Peer = inNamespace('kube-system', { 'k8s-app': 'kube-dns' });
const PROMETHEUS: Peer = inNamespace('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
const OTHER_APP: Peer = inNamespace('default', { app: 'something-else' });
const PUBLIC_API: Peer = { kind: 'ip', address: '93.184.215.14' };
const INTERNET_CLIENT: Peer = { kind: 'ip', address: '203.0.113.7' };
const PRIVATE_HOST: Peer = { kind: 'ip', address: '10.20.30.40' };
const CLOUD_METADATA: Peer = { kind: 'ip', address: '169.254.169.254' };

describe('Kubernetes manifests (deploy/k8s)', () => {
  let sensitive: Set<string>;
  const shapes = new Map<ServiceName, EnvShape>();
  const required = new Map<ServiceName, string[]>();

  beforeAll(async () => {
    sensitive = await sensitiveVariables();
    for (const app of SERVICES) {
      shapes.set(app, await appEnvShape(app));
      required.set(app, await requiredFor(app));
    }
  });

  describe.each(Object.entries(OVERLAYS))('overlay %s', (overlay, namespace) => {
    let objects: KubeObject[];
    let deployments: KubeObject[];

    beforeAll(() => {
      objects = renderKustomization(join(K8S, 'overlays', overlay));
      deployments = ofKind(objects, 'Deployment');
    });

    it('should render only objects the Kubernetes schemas accept, without unknown fields', () => {
      expect(objects.length).toBeGreaterThan(0);
      expect(objects.flatMap(validateObject)).toEqual([]);
    });

    it('should put every object in the overlay namespace and render no Secret', () => {
      expect(objects.filter((object) => object.metadata.namespace !== namespace)).toEqual([]);
      expect(ofKind(objects, 'Secret')).toEqual([]);
    });

    it.each(SERVICES)(
      'should run %s as a Deployment with a Service and a PodDisruptionBudget selecting its pods',
      (app) => {
        const deployment = named(objects, 'Deployment', app);
        const labels = templateLabels(deployment);
        expect(labels).toMatchObject({
          'app.kubernetes.io/name': app,
          'app.kubernetes.io/part-of': 'tengine',
        });
        expect(selectsPods((deployment['spec'] as Plain)['selector'], labels)).toBe(true);
        // No other Deployment's pods would be taken for this app's.
        for (const other of deployments.filter((candidate) => candidate !== deployment)) {
          expect(
            selectsPods((deployment['spec'] as Plain)['selector'], templateLabels(other)),
          ).toBe(false);
        }

        const container = mainContainer(deployment);
        const ports = namedPorts(container);
        const service = named(objects, 'Service', app);
        const serviceSpec = service['spec'] as Plain;
        expect(selectsPods(serviceSpec['selector'], labels)).toBe(true);
        for (const port of serviceSpec['ports'] as Plain[]) {
          const target = port['targetPort'];
          expect(typeof target === 'string' ? ports[target] : target).toBeDefined();
        }

        const budgets = ofKind(objects, 'PodDisruptionBudget').filter((budget) =>
          selectsPods((budget['spec'] as Plain)['selector'], labels),
        );
        expect(budgets).toHaveLength(1);
      },
    );

    it.each(['gateway', 'executor'])(
      'should scale %s with a HorizontalPodAutoscaler that owns its replica count',
      (app) => {
        const autoscaler = named(objects, 'HorizontalPodAutoscaler', app);
        const spec = autoscaler['spec'] as Plain;
        expect(spec['scaleTargetRef']).toEqual({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: app,
        });
        expect(spec['minReplicas']).toBeGreaterThanOrEqual(1);
        expect(spec['maxReplicas']).toBeGreaterThan(spec['minReplicas'] as number);
        expect(Array.isArray(spec['metrics']) && spec['metrics'].length > 0).toBe(true);
        // A replica count in the Deployment would fight the autoscaler on every apply.
        expect((named(objects, 'Deployment', app)['spec'] as Plain)['replicas']).toBeUndefined();
      },
    );

    it('should probe, limit, pin, harden and expose metrics of every workload', () => {
      expect(deployments.flatMap(workloadProblems)).toEqual([]);
    });

    it('should run one image for all apps, the app chosen by APP and its port by PORT', () => {
      const images = new Set(
        SERVICES.map((app) => mainContainer(named(objects, 'Deployment', app))['image']),
      );
      expect(images.size).toBe(1);
      for (const app of SERVICES) {
        const container = mainContainer(named(objects, 'Deployment', app));
        const environment = containerEnvironment(container, objects, documentedSecrets());
        expect(environment.values['APP']).toBe(app);
        expect(Number(environment.values['PORT'])).toBe(namedPorts(container)['http']);
        expect(Number(environment.values['PORT'])).toBe(DEFAULT_PORTS[app]);
      }
    });

    it.each(SERVICES)('should give %s every variable it requires, all of them valid', (app) => {
      const container = mainContainer(named(objects, 'Deployment', app));
      const environment = containerEnvironment(container, objects, documentedSecrets());
      expect(environment.problems).toEqual([]);
      const missing = (required.get(app) ?? []).filter((name) => !environment.values[name]?.trim());
      expect(missing).toEqual([]);
      const shape = shapes.get(app) as EnvShape;
      expect(() => loadEnv(shape, environment.values)).not.toThrow();
      // Variables set on the container itself must be ones the app reads.
      const own = (container['env'] as Plain[]).map((entry) => String(entry['name']));
      expect(own.filter((name) => !(name in shape) && !EXTRA_VARIABLES.has(name))).toEqual([]);
    });

    it('should hold only variables some app reads in the ConfigMap, and no credentials', () => {
      const data = named(objects, 'ConfigMap', 'tengine-config')['data'] as Record<string, string>;
      const known = new Set([...shapes.values()].flatMap((shape) => Object.keys(shape)));
      expect(
        Object.keys(data).filter((name) => !known.has(name) && !EXTRA_VARIABLES.has(name)),
      ).toEqual([]);
      for (const [name, value] of Object.entries(data)) {
        if (!sensitive.has(name) && !looksSecret(name)) continue;
        // Only addresses without credentials (NATS_URL) may sit in a ConfigMap.
        expect({ name, credentials: /^[a-z]+:\/\/[^/@]*@/.test(value) }).toEqual({
          name,
          credentials: false,
        });
        expect(looksSecret(name)).toBe(false);
      }
    });

    it('should reference every secret from the Secret, never inline one', () => {
      for (const deployment of deployments) {
        for (const container of containersOf(deployment)) {
          const environment = containerEnvironment(container, objects, documentedSecrets());
          for (const [name, source] of Object.entries(environment.sources)) {
            if (!sensitive.has(name) && !looksSecret(name)) continue;
            if (source === 'secret') continue;
            const literal = environment.literals[name];
            if (source === 'configMap') {
              expect({ name, value: environment.values[name] }).not.toMatchObject({
                value: expect.stringMatching(/^[a-z]+:\/\/[^/@]*@/) as unknown,
              });
              continue;
            }
            // A literal may only assemble a URL whose password is a reference to a Secret key.
            const password = /^[a-z]+:\/\/[^:@/]*:([^@/]*)@/.exec(literal ?? '')?.[1];
            const fromSecret =
              password !== undefined &&
              references(password).length === 1 &&
              password === `$(${references(password)[0]})` &&
              environment.sources[references(password)[0] ?? ''] === 'secret';
            expect({ container: deployment.metadata.name, name, fromSecret }).toEqual({
              container: deployment.metadata.name,
              name,
              fromSecret: true,
            });
          }
        }
      }
    });

    it('should deny by default, let every pod resolve names and reach NATS and the collector', () => {
      const policies = ofKind(objects, 'NetworkPolicy');
      const pods = podsOf(objects);
      for (const [app, pod] of pods) {
        const where = `${app}:`;
        expect([where, allows(policies, pod, 'Egress', DNS, 53, 'UDP')]).toEqual([where, true]);
        expect([where, allows(policies, pod, 'Egress', NATS, 4222)]).toEqual([where, true]);
        expect([
          where,
          allows(policies, pod, 'Egress', inNamespace('observability'), 4318),
        ]).toEqual([where, true]);
        expect([where, allows(policies, pod, 'Egress', OTHER_APP, 8080)]).toEqual([where, false]);
        // Only the gateway takes connections from other namespaces (its ingress controller).
        expect([
          where,
          allows(policies, pod, 'Ingress', OTHER_APP, pod.ports['http'] ?? 0),
        ]).toEqual([where, app === 'gateway']);
        expect([
          where,
          allows(policies, pod, 'Ingress', PROMETHEUS, pod.ports['http'] ?? 0),
        ]).toEqual([where, true]);
      }
      // A pod added later is still covered by the default deny.
      const stranger: Pod = { namespace, labels: { app: 'new' }, ports: {} };
      expect(allows(policies, stranger, 'Egress', PUBLIC_API, 443)).toBe(false);
      expect(allows(policies, stranger, 'Ingress', INTERNET_CLIENT, 80)).toBe(false);
    });

    it('should let only the backends reach PostgreSQL', () => {
      const policies = ofKind(objects, 'NetworkPolicy');
      const pods = podsOf(objects);
      for (const app of SERVICES) {
        const expected = (BACKENDS as readonly string[]).includes(app);
        expect([app, allows(policies, pods.get(app) as Pod, 'Egress', POSTGRES, 5432)]).toEqual([
          app,
          expected,
        ]);
      }
    });

    it('should let only the executor reach the internet, and not private or metadata addresses', () => {
      const policies = ofKind(objects, 'NetworkPolicy');
      const pods = podsOf(objects);
      for (const app of SERVICES) {
        const pod = pods.get(app) as Pod;
        expect([app, allows(policies, pod, 'Egress', PUBLIC_API, 443)]).toEqual([
          app,
          app === 'executor',
        ]);
        expect([app, allows(policies, pod, 'Egress', PRIVATE_HOST, 443)]).toEqual([app, false]);
        expect([app, allows(policies, pod, 'Egress', CLOUD_METADATA, 80)]).toEqual([app, false]);
      }
      // Whatever else the policies say: an egress rule open to every address selects the executor only.
      for (const policy of policies) {
        const spec = policy['spec'] as Plain;
        const open = ((spec['egress'] ?? []) as Plain[]).some((rule) =>
          opensToEverywhere(rule, 'to'),
        );
        if (!open) continue;
        const selected = [...pods].filter(
          ([, pod]) => policiesFor([policy], pod, 'Egress').length > 0,
        );
        expect([policy.metadata.name, selected.map(([app]) => app)]).toEqual([
          policy.metadata.name,
          ['executor'],
        ]);
      }
    });

    it('should accept connections from outside the cluster on the gateway only', () => {
      const policies = ofKind(objects, 'NetworkPolicy');
      const pods = podsOf(objects);
      for (const app of SERVICES) {
        const pod = pods.get(app) as Pod;
        expect([
          app,
          allows(policies, pod, 'Ingress', INTERNET_CLIENT, pod.ports['http'] ?? 0),
        ]).toEqual([app, app === 'gateway']);
      }
      for (const policy of policies) {
        const spec = policy['spec'] as Plain;
        const open = ((spec['ingress'] ?? []) as Plain[]).some((rule) =>
          opensToEverywhere(rule, 'from'),
        );
        if (!open) continue;
        const selected = [...pods].filter(
          ([, pod]) => policiesFor([policy], pod, 'Ingress').length > 0,
        );
        expect([policy.metadata.name, selected.map(([app]) => app)]).toEqual([
          policy.metadata.name,
          ['gateway'],
        ]);
      }
    });
  });

  describe('production overlay', () => {
    let objects: KubeObject[];
    beforeAll(() => {
      objects = renderKustomization(join(K8S, 'overlays', 'production'));
    });

    it('should pin the image to the release in package.json', () => {
      const tags = new Set(
        ofKind(objects, 'Deployment').map(
          (deployment) => parseImage(String(mainContainer(deployment)['image'])).tag,
        ),
      );
      expect([...tags]).toEqual([rootPackage().version]);
    });

    it('should keep at least two pods of every service and three of the traffic-facing ones', () => {
      for (const app of SERVICES) {
        const autoscaler = objects.find(
          (object) => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === app,
        );
        const floor = autoscaler
          ? ((autoscaler['spec'] as Plain)['minReplicas'] as number)
          : ((named(objects, 'Deployment', app)['spec'] as Plain)['replicas'] as number);
        expect([app, floor >= (autoscaler ? 3 : 2)]).toEqual([app, true]);
      }
    });

    it('should replicate the runs stream three times (a three-node JetStream cluster)', () => {
      const data = named(objects, 'ConfigMap', 'tengine-config')['data'] as Record<string, string>;
      expect(data['TENGINE_RUNS_REPLICAS']).toBe('3');
      expect(Number(data['TENGINE_RUNS_DUPLICATE_WINDOW_SECONDS'])).toBeGreaterThanOrEqual(120);
    });
  });

  describe('secret.example.yaml', () => {
    it('should be listed by no kustomization', () => {
      const kustomizations = [
        ...Object.keys(OVERLAYS).map((overlay) => join(K8S, 'overlays', overlay)),
        join(K8S, 'examples', 'audit-consumer'),
      ];
      for (const directory of kustomizations) {
        expect(kustomizationInputs(directory).map((file) => relative(K8S, file))).not.toContain(
          relative(K8S, repoPath(SECRET_EXAMPLE)),
        );
      }
    });

    it('should document every Secret key the manifests reference, with placeholders only', () => {
      const [secret] = parseYamlDocuments(readRepoFile(SECRET_EXAMPLE), SECRET_EXAMPLE) as Plain[];
      expect(validateObject(secret as KubeObject)).toEqual([]);
      const data = secret?.['stringData'] as Record<string, string>;
      expect(Object.values(data).every((value) => value === 'REPLACE_ME')).toBe(true);
      const referenced = new Set<string>();
      for (const overlay of Object.keys(OVERLAYS)) {
        for (const deployment of ofKind(
          renderKustomization(join(K8S, 'overlays', overlay)),
          'Deployment',
        )) {
          for (const container of containersOf(deployment)) {
            for (const entry of (container['env'] ?? []) as Plain[]) {
              const reference = (entry['valueFrom'] as Plain | undefined)?.['secretKeyRef'];
              if (!isPlain(reference)) continue;
              expect(reference['name']).toBe(SECRET_NAME);
              referenced.add(String(reference['key']));
            }
          }
        }
      }
      expect([...referenced].sort()).toEqual(Object.keys(data).sort());
    });
  });

  describe('example audit consumer (deploy/k8s/examples/audit-consumer)', () => {
    let example: KubeObject[];
    let production: KubeObject[];
    beforeAll(() => {
      example = renderKustomization(join(K8S, 'examples', 'audit-consumer'));
      production = renderKustomization(join(K8S, 'overlays', 'production'));
    });

    it('should validate and follow the workload rules, next to the production namespace', () => {
      expect(example.flatMap(validateObject)).toEqual([]);
      expect(example.every((object) => object.metadata.namespace === OVERLAYS.production)).toBe(
        true,
      );
      expect(ofKind(example, 'Deployment').flatMap(workloadProblems)).toEqual([]);
      expect(ofKind(example, 'PodDisruptionBudget')).toHaveLength(1);
    });

    it('should subscribe to the runs stream with its own durable consumer', async () => {
      const consumer = named(example, 'Deployment', 'run-consumer');
      const environment = containerEnvironment(
        mainContainer(consumer),
        production,
        documentedSecrets(),
      );
      expect(environment.problems).toEqual([]);
      expect(environment.sources['NATS_URL']).toBe('configMap');
      expect(environment.values['RUNS_STREAM']).toBe(RUNS_STREAM_DEFAULT_NAME);
      expect(environment.values['FILTER_SUBJECT']).toBe(RunsStream.filter(''));
      const audit = loadEnv(await appEnvShape('audit'), {}) as { AUDIT_CONSUMER_NAME: string };
      expect(environment.values['CONSUMER_NAME']).toBeTruthy();
      expect(environment.values['CONSUMER_NAME']).not.toBe(audit.AUDIT_CONSUMER_NAME);
    });

    it('should reach NATS only', () => {
      const policies = [
        ...ofKind(production, 'NetworkPolicy'),
        ...ofKind(example, 'NetworkPolicy'),
      ];
      const pod = podsOf(example).get('run-consumer') as Pod;
      expect(allows(policies, pod, 'Egress', NATS, 4222)).toBe(true);
      expect(allows(policies, pod, 'Egress', DNS, 53, 'UDP')).toBe(true);
      expect(allows(policies, pod, 'Egress', POSTGRES, 5432)).toBe(false);
      expect(allows(policies, pod, 'Egress', PUBLIC_API, 443)).toBe(false);
      expect(allows(policies, pod, 'Ingress', INTERNET_CLIENT, 8080)).toBe(false);
    });
  });

  it('should document a migration Job (docs/deploy.md) that validates and may reach PostgreSQL', async () => {
    const markdown = readRepoFile('docs', 'deploy.md');
    const blocks = [...markdown.matchAll(/^( *)```yaml\n([\s\S]*?)^\1```/gm)].map((match) =>
      (match[2] ?? '').replace(new RegExp(`^${match[1] ?? ''}`, 'gm'), ''),
    );
    const jobs = blocks
      .flatMap((block) => parseYamlDocuments(block, 'docs/deploy.md'))
      .filter(
        (document): document is KubeObject => isPlain(document) && document['kind'] === 'Job',
      );
    expect(jobs).toHaveLength(1);
    const job = jobs[0] as KubeObject;
    expect(validateObject(job)).toEqual([]);
    const template = (job['spec'] as Plain)['template'] as Plain;
    const container = ((template['spec'] as Plain)['containers'] as Plain[])[0] as Plain;
    const production = renderKustomization(join(K8S, 'overlays', 'production'));
    const environment = containerEnvironment(container, production, documentedSecrets());
    expect(environment.problems).toEqual([]);
    const shape = await appEnvShape('platform');
    expect(() => loadEnv(shape, environment.values)).not.toThrow();
    expect(environment.values['DATABASE_URL']).toMatch(/^postgres:\/\/tengine:[0-9a-f]+@/);
    const pod: Pod = {
      namespace: job.metadata.namespace ?? '',
      labels: (template['metadata'] as Plain)['labels'] as Record<string, string>,
      ports: {},
    };
    expect(allows(ofKind(production, 'NetworkPolicy'), pod, 'Egress', POSTGRES, 5432)).toBe(true);
  });

  it('should have a kustomization in every overlay and example directory', () => {
    for (const parent of ['overlays', 'examples']) {
      for (const entry of readdirSync(join(K8S, parent), { withFileTypes: true })) {
        if (entry.isDirectory()) {
          expect(() => kustomizationInputs(join(K8S, parent, entry.name))).not.toThrow();
        }
      }
    }
    expect(Object.keys(OVERLAYS).sort()).toEqual(readdirSync(join(K8S, 'overlays')).sort());
  });

  it('should give every pod spec a termination grace longer than the app shutdown grace', () => {
    for (const overlay of Object.keys(OVERLAYS)) {
      const objects = renderKustomization(join(K8S, 'overlays', overlay));
      for (const deployment of ofKind(objects, 'Deployment')) {
        const environment = containerEnvironment(
          mainContainer(deployment),
          objects,
          documentedSecrets(),
        );
        const graceMs = Number(environment.values['SHUTDOWN_GRACE_MS'] ?? 10_000);
        const spec = podSpec(deployment);
        const preStop = JSON.stringify(
          (mainContainer(deployment)['lifecycle'] as Plain | undefined)?.['preStop'] ?? {},
        );
        const preStopMs = Number(/"sleep","(\d+)"/.exec(preStop)?.[1] ?? 0) * 1000;
        expect([
          deployment.metadata.name,
          (spec['terminationGracePeriodSeconds'] as number) * 1000 > graceMs + preStopMs,
        ]).toEqual([deployment.metadata.name, true]);
      }
    }
  });
});
