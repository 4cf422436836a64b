import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { interpolate, MissingVariableError } from './compose.js';
import { isIgnored, parseDockerfile, parseDockerignore, parseEnv } from './dockerfile.js';
import { containersOf, renderKustomization, strategicMerge, type KubeObject } from './kustomize.js';
import { isPinnedImage } from './repo.js';

// The small re-implementations the deploy checks rely on (kustomize, compose interpolation,
// Dockerfile and .dockerignore reading) behave like the real tools on the cases they meet.

describe('kustomize renderer', () => {
  let root: string;

  const write = (files: Record<string, string>): void => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
  };

  const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: example/web
          env:
            - { name: A, value: '1' }
            - { name: B, value: '2' }
          ports:
            - { name: http, containerPort: 80 }
          args: ['--one', '--two']
        - name: sidecar
          image: example/sidecar:1.0.0
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tengine-kustomize-'));
    write({
      'base/kustomization.yaml': `resources: [web.yaml]
labels:
  - pairs: { team: core }
    includeTemplates: true
`,
      'base/web.yaml': DEPLOYMENT,
    });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const deployment = (objects: KubeObject[]): KubeObject =>
    objects.find((object) => object.kind === 'Deployment') as KubeObject;

  it('should apply namespace, labels (templates too, selectors never) and images', () => {
    write({
      'overlay/kustomization.yaml': `namespace: shop
resources: [../base]
labels:
  - pairs: { env: prod }
images:
  - { name: example/web, newName: registry.example.com/web, newTag: 2.1.0 }
  - { name: example/sidecar, digest: 'sha256:${'a'.repeat(64)}' }
`,
    });
    const objects = renderKustomization(join(root, 'overlay'));
    expect(objects.map((object) => object.metadata.namespace)).toEqual(['shop', 'shop']);
    const web = deployment(objects);
    expect(web.metadata.labels).toEqual({ app: 'web', team: 'core', env: 'prod' });
    expect(web['spec']).toMatchObject({
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', team: 'core' } } },
    });
    expect(containersOf(web).map((container) => container['image'])).toEqual([
      'registry.example.com/web:2.1.0',
      `example/sidecar@sha256:${'a'.repeat(64)}`,
    ]);
  });

  it('should merge patches strategically: maps merge, null deletes, keyed lists merge, others replace', () => {
    write({
      'overlay/kustomization.yaml': `resources: [../base]
patches:
  - path: patch.yaml
`,
      'overlay/patch.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: null
  template:
    spec:
      containers:
        - name: web
          env:
            - { name: B, value: changed }
            - { name: C, value: '3' }
          ports:
            - { containerPort: 80, protocol: TCP }
          args: ['--three']
`,
    });
    const web = deployment(renderKustomization(join(root, 'overlay')));
    expect((web['spec'] as Record<string, unknown>)['replicas']).toBeUndefined();
    const [main, sidecar] = containersOf(web);
    expect(main?.['env']).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'changed' },
      { name: 'C', value: '3' },
    ]);
    expect(main?.['ports']).toEqual([{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
    expect(main?.['args']).toEqual(['--three']);
    expect(sidecar?.['image']).toBe('example/sidecar:1.0.0');
  });

  it('should apply a targeted patch to every resource whose name matches the anchored pattern', () => {
    write({
      'base/more.yaml': DEPLOYMENT.split('---')[0]?.replace(/web/g, 'webby') ?? '',
      'base/kustomization.yaml': 'resources: [web.yaml, more.yaml]\n',
      'overlay/kustomization.yaml': `resources: [../base]
patches:
  - path: one.yaml
    target: { kind: Deployment, name: web }
`,
      'overlay/one.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: anything }
spec: { replicas: 1 }
`,
    });
    const objects = renderKustomization(join(root, 'overlay'));
    const replicas = objects
      .filter((object) => object.kind === 'Deployment')
      .map((object) => [
        object.metadata.name,
        (object['spec'] as Record<string, unknown>)['replicas'],
      ]);
    expect(replicas).toEqual([
      ['web', 1],
      ['webby', 2],
    ]);
  });

  it.each([
    ['an unsupported field', 'resources: [../base]\ncommonLabels: { a: b }\n', /commonLabels/],
    ['a file outside its directory', 'resources: [../base/web.yaml]\n', /outside/],
    [
      'a patch that matches nothing',
      'resources: [../base]\npatches: [{ path: p.yaml }]\n',
      /matches 0/,
    ],
    [
      'a JSON 6902 patch',
      'resources: [../base]\npatches: [{ path: j.yaml, target: { kind: Deployment } }]\n',
      /6902/,
    ],
    ['a resource defined twice', 'resources: [../base, dup.yaml]\n', /defined twice/],
    [
      'includeSelectors',
      'resources: [../base]\nlabels: [{ pairs: { a: b }, includeSelectors: true }]\n',
      /includeSelectors/,
    ],
  ])('should refuse %s', (_case, kustomization, message) => {
    write({
      'overlay/kustomization.yaml': kustomization,
      'overlay/p.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: nope }\ndata: { a: b }\n',
      'overlay/j.yaml': '- { op: replace, path: /spec/replicas, value: 3 }\n',
      'overlay/dup.yaml': DEPLOYMENT.split('---')[1] ?? '',
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(message);
  });

  it('should refuse patch directives it does not implement', () => {
    expect(() => strategicMerge({ a: [1] }, { $patch: 'replace' }, [])).toThrow(/\$patch/);
  });
});

describe('compose interpolation', () => {
  const variables = { SET: 'value', EMPTY: '' };

  it.each([
    ['plain ${SET} and $SET', 'plain value and value'],
    ['${EMPTY:-fallback} ${EMPTY-kept}', 'fallback '],
    ['${UNSET:-a ${SET} b}', 'a value b'],
    ['${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt}', 'alt  alt'],
    ['cost: $$5', 'cost: $5'],
  ])('should expand %s', (text, expected) => {
    expect(interpolate(text, variables)).toBe(expected);
  });

  it('should fail on a required variable that is unset or empty, with its message', () => {
    expect(() => interpolate('${UNSET:?set UNSET please}', variables)).toThrow(
      MissingVariableError,
    );
    expect(() => interpolate('${EMPTY:?set it}', variables)).toThrow(/EMPTY.*set it/);
    expect(interpolate('${EMPTY?set it}', variables)).toBe('');
  });

  it('should report variables used without a default and left unset', () => {
    const unset = new Set<string>();
    expect(interpolate('${NOPE}-$ALSO_NOPE', variables, unset)).toBe('-');
    expect([...unset]).toEqual(['NOPE', 'ALSO_NOPE']);
  });
});

describe('Dockerfile and .dockerignore reading', () => {
  it('should join continued lines, drop comments and split stages', () => {
    const file = parseDockerfile(`# syntax=docker/dockerfile:1
ARG BASE=node:22-slim
FROM \${BASE} AS one
RUN echo a \\
    # a comment inside the continuation
    && echo b
FROM one AS two
ENV A=1 B="two words"
`);
    expect([...file.globalArgs]).toEqual([['BASE', 'node:22-slim']]);
    expect(file.stages.map((stage) => [stage.name, stage.base])).toEqual([
      ['one', '${BASE}'],
      ['two', 'one'],
    ]);
    expect(file.stages[0]?.instructions[0]?.args).toBe('echo a && echo b');
    expect(parseEnv('A=1 B="two words"')).toEqual([
      ['A', '1'],
      ['B', 'two words'],
    ]);
  });

  it('should match like Docker: ** across directories, parents, the last rule wins', () => {
    const rules = parseDockerignore('**/dist\n*.md\n!README.md\nbench/out\n');
    expect(isIgnored(rules, 'apps/x/dist/main.js')).toBe(true);
    expect(isIgnored(rules, 'dist')).toBe(true);
    expect(isIgnored(rules, 'NOTES.md')).toBe(true);
    expect(isIgnored(rules, 'README.md')).toBe(false);
    expect(isIgnored(rules, 'docs/NOTES.md')).toBe(false);
    expect(isIgnored(rules, 'bench/out/a.json')).toBe(true);
    expect(isIgnored(rules, 'bench/in/a.json')).toBe(false);
  });

  it('should call an image pinned only with a tag other than latest, or a digest', () => {
    expect(isPinnedImage('nats:2.11-alpine')).toBe(true);
    expect(isPinnedImage('registry.example.com:5000/team/app:1.2.3')).toBe(true);
    expect(isPinnedImage(`app@sha256:${'0'.repeat(64)}`)).toBe(true);
    expect(isPinnedImage('registry.example.com:5000/team/app')).toBe(false);
    expect(isPinnedImage('app:latest')).toBe(false);
    expect(isPinnedImage('app')).toBe(false);
  });
});
