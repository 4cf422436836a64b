import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

import { APPS, appDirectories, DEFAULT_PORTS } from './app-env.js';
import {
  execForm,
  isIgnored,
  parseArg,
  parseCopy,
  parseDockerfile,
  parseDockerignore,
  parseEnv,
  referencedVariables,
  type Stage,
} from './dockerfile.js';
import {
  isPinnedImage,
  parseImage,
  readRepoFile,
  REPO_ROOT,
  repoPath,
  rootPackage,
} from './repo.js';

// Static checks of the image build (there is no Docker engine on the test machines): the stages
// are named and used, every file they copy exists and is in the build context, the build gets
// every workspace, and the runtime stage is the small, non-root, production image it claims.

/** Instructions whose arguments Docker itself expands ($VAR, ${VAR}); RUN and CMD go to a shell. */
const EXPANDED = new Set([
  'ADD',
  'COPY',
  'ENV',
  'EXPOSE',
  'FROM',
  'LABEL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const ignore = parseDockerignore(readRepoFile('.dockerignore'));
const stages = dockerfile.stages;
const runtime = stages[stages.length - 1] as Stage;

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args);
}

/** The stage and the stages it is built FROM, nearest first. */
function lineage(stage: Stage): Stage[] {
  const parent = stages.find(
    (candidate) => candidate.name === stage.base && candidate.index < stage.index,
  );
  return parent ? [stage, ...lineage(parent)] : [stage];
}

/** A COPY destination as a directory relative to WORKDIR (`./` is `.`). */
function directory(destination: string): string {
  return normalize(destination).replace(/\/+$/, '') || '.';
}

/** Files under `directory` (relative to the repository), skipping installed and built output. */
function filesUnder(directory: string): string[] {
  const out: string[] = [];
  const walk = (absolute: string): void => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.nx'].includes(entry.name)) continue;
      const path = join(absolute, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(REPO_ROOT, path));
    }
  };
  walk(repoPath(directory));
  return out;
}

describe('Dockerfile', () => {
  it('should name every stage once and use every stage but the last', () => {
    const names = stages.map((stage) => stage.name);
    expect(names.every((name) => typeof name === 'string' && name !== '')).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    for (const stage of stages.slice(0, -1)) {
      const usedBy = stages.filter(
        (later) =>
          later.index > stage.index &&
          (later.base === stage.name ||
            later.instructions.some(
              (instruction) =>
                instruction.keyword === 'COPY' &&
                parseCopy(instruction.args).flags.get('from') === stage.name,
            )),
      );
      expect({ stage: stage.name, used: usedBy.length > 0 }).toEqual({
        stage: stage.name,
        used: true,
      });
    }
  });

  it('should copy only from earlier stages, and build on a pinned Node image of a supported version', () => {
    for (const stage of stages) {
      for (const args of instructions(stage, 'COPY')) {
        const from = parseCopy(args).flags.get('from');
        if (from === undefined) continue;
        const source = stages.find((candidate) => candidate.name === from);
        expect({
          stage: stage.name,
          from,
          earlier: source !== undefined && source.index < stage.index,
        }).toEqual({
          stage: stage.name,
          from,
          earlier: true,
        });
      }
      if (
        stages.some((candidate) => candidate.name === stage.base && candidate.index < stage.index)
      )
        continue;
      // An external base: an ARG with a pinned default, or a pinned reference.
      const [variable] = referencedVariables(stage.base);
      const image =
        variable === undefined ? stage.base : (dockerfile.globalArgs.get(variable) ?? '');
      expect({ stage: stage.name, image, pinned: isPinnedImage(image) }).toEqual({
        stage: stage.name,
        image,
        pinned: true,
      });
      const { name, tag } = parseImage(image);
      expect(name).toBe('node');
      const major = Number(/^(\d+)/.exec(tag ?? '')?.[1]);
      // package.json engines, and some dependencies (the NATS client, fastify's cookie) want 22.
      const engines = /(\d+)/.exec(
        String(
          (JSON.parse(readRepoFile('package.json')) as { engines: { node: string } }).engines.node,
        ),
      );
      expect(major).toBeGreaterThanOrEqual(Math.max(22, Number(engines?.[1])));
    }
  });

  it('should declare every variable Docker expands (global ARGs in FROM, stage ARG/ENV elsewhere)', () => {
    for (const stage of stages) {
      for (const variable of referencedVariables(stage.base)) {
        expect({ from: stage.base, declared: dockerfile.globalArgs.has(variable) }).toEqual({
          from: stage.base,
          declared: true,
        });
      }
      const declared = new Set<string>();
      for (const ancestor of lineage(stage).slice(1)) {
        for (const args of instructions(ancestor, 'ENV'))
          parseEnv(args).forEach(([name]) => declared.add(name));
      }
      for (const instruction of stage.instructions) {
        if (EXPANDED.has(instruction.keyword)) {
          const unknown = referencedVariables(instruction.args).filter(
            (name) => !declared.has(name),
          );
          expect({ line: instruction.line, unknown }).toEqual({
            line: instruction.line,
            unknown: [],
          });
        }
        if (instruction.keyword === 'ARG')
          parseArg(instruction.args).forEach(([name]) => declared.add(name));
        if (instruction.keyword === 'ENV')
          parseEnv(instruction.args).forEach(([name]) => declared.add(name));
      }
    }
  });

  it('should copy only files that exist and are in the build context', () => {
    for (const stage of stages) {
      for (const args of instructions(stage, 'COPY')) {
        const copy = parseCopy(args);
        if (copy.flags.has('from')) continue;
        for (const source of copy.sources) {
          const path = source.replace(/\/+$/, '');
          expect({ source, exists: existsSync(repoPath(path)) }).toEqual({ source, exists: true });
          expect({ source, ignored: isIgnored(ignore, path) }).toEqual({ source, ignored: false });
        }
      }
    }
  });

  it('should copy every workspace manifest before installing, so npm ci sees the whole lockfile', () => {
    const install = stages.find((stage) =>
      instructions(stage, 'RUN').some((args) => /npm ci(?!.*--omit=dev)/.test(args)),
    ) as Stage;
    expect(install).toBeDefined();
    const copied = new Set(
      lineage(install).flatMap((stage) =>
        instructions(stage, 'COPY')
          .map(parseCopy)
          .filter((copy) => !copy.flags.has('from'))
          // Copied to the same place in /app, so that the workspace layout is kept.
          .flatMap((copy) =>
            copy.sources.filter((source) => directory(copy.destination) === dirname(source)),
          ),
      ),
    );
    const workspaces = rootPackage().workspaces.flatMap((pattern) => {
      const parent = pattern.replace(/\/\*$/, '');
      return readdirSync(repoPath(parent), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${parent}/${entry.name}/package.json`);
    });
    expect(workspaces.length).toBeGreaterThan(10);
    expect(
      ['package.json', 'package-lock.json', ...workspaces].filter((file) => !copied.has(file)),
    ).toEqual([]);
  });

  it('should compile with the build script, with every source file in the build context', () => {
    const build = stages.find((stage) =>
      instructions(stage, 'RUN').some((args) => args.includes('npm run build')),
    ) as Stage;
    expect(build).toBeDefined();
    expect(rootPackage().scripts['build']).toBe('tsc -b tsconfig.build.json');
    const sources = new Set(
      lineage(build).flatMap((stage) =>
        instructions(stage, 'COPY')
          .map(parseCopy)
          .filter((copy) => !copy.flags.has('from'))
          .flatMap((copy) => copy.sources.map((source) => source.replace(/\/+$/, ''))),
      ),
    );
    expect([...sources]).toEqual(
      expect.arrayContaining(['tsconfig.base.json', 'tsconfig.build.json']),
    );
    const references = (
      JSON.parse(readRepoFile('tsconfig.build.json')) as { references: Array<{ path: string }> }
    ).references;
    for (const { path } of references) {
      // Every project directory is copied (directly or through its parent)...
      expect({
        path,
        copied: [...sources].some((source) => path === source || path.startsWith(`${source}/`)),
      }).toEqual({
        path,
        copied: true,
      });
      // ...with its configuration and every source file the compiler reads.
      const needed = [
        `${path}/tsconfig.json`,
        `${path}/package.json`,
        ...filesUnder(join(path, 'src')).filter(
          (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
        ),
      ];
      expect(needed.filter((file) => isIgnored(ignore, file))).toEqual([]);
    }
  });

  it('should ship production dependencies only, NODE_ENV=production, as a non-root user', () => {
    const prodDeps = stages.find((stage) =>
      instructions(stage, 'RUN').some((args) => /npm (ci|prune)\b.*--omit=dev/.test(args)),
    ) as Stage;
    expect(prodDeps).toBeDefined();
    const fromStages = instructions(runtime, 'COPY')
      .map(parseCopy)
      .map((copy) => copy.flags.get('from'))
      .filter((from): from is string => from !== undefined);
    expect(fromStages).toContain(prodDeps.name);
    // Whatever comes from the compiling stage is compiled output, not its (dev) node_modules.
    for (const copy of instructions(runtime, 'COPY').map(parseCopy)) {
      const from = stages.find((stage) => stage.name === copy.flags.get('from'));
      if (!from || from === prodDeps) continue;
      expect(
        copy.sources.some((source) => source.includes('node_modules') || source === '/app/'),
      ).toBe(false);
    }
    const env = Object.fromEntries(instructions(runtime, 'ENV').flatMap(parseEnv));
    expect(env['NODE_ENV']).toBe('production');
    const user = instructions(runtime, 'USER').pop() ?? 'root';
    // Numeric, so that Kubernetes can check runAsNonRoot.
    expect(user).toMatch(/^[1-9][0-9]*(:[1-9][0-9]*)?$/);
  });

  it('should run the app APP names, stopped by SIGTERM, checked on /health/live', () => {
    const args = Object.fromEntries(instructions(runtime, 'ARG').flatMap(parseArg));
    expect(APPS).toContain(args['APP']);
    expect(appDirectories()).toEqual([...APPS].sort());
    const env = Object.fromEntries(instructions(runtime, 'ENV').flatMap(parseEnv));
    expect(env['APP']).toBe('${APP}');
    const cmd = execForm(instructions(runtime, 'CMD').pop() ?? '') ?? [];
    expect(cmd.join(' ')).toMatch(/exec node "?apps\/\$\{APP\}\/dist\/main\.js"?/);
    expect(instructions(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    const healthcheck = instructions(runtime, 'HEALTHCHECK').pop() ?? '';
    const probe = execForm(healthcheck.replace(/^.*?\bCMD\s+/, '')) ?? [];
    expect(probe).toEqual(['node', 'deploy/docker/healthcheck.mjs', '/health/live']);
    const exposed = instructions(runtime, 'EXPOSE')
      .flatMap((line) => line.split(/\s+/))
      .map(Number);
    expect(exposed).toEqual(expect.arrayContaining(Object.values(DEFAULT_PORTS)));
  });

  it("should probe each app's default port when PORT is unset", () => {
    const script = readRepoFile('deploy', 'docker', 'healthcheck.mjs');
    const block = /DEFAULT_PORTS = \{([^}]*)\}/.exec(script)?.[1] ?? '';
    const ports = Object.fromEntries(
      [...block.matchAll(/(\w+): (\d+)/g)].map((match): [string, number] => [
        match[1] ?? '',
        Number(match[2]),
      ]),
    );
    expect(ports).toEqual(DEFAULT_PORTS);
  });
});

describe('.dockerignore', () => {
  it('should keep installed, generated and private files out of the build context', () => {
    const excluded = [
      'node_modules/yaml/package.json',
      'apps/executor/node_modules/undici/index.js',
      'apps/gateway/dist/main.js',
      'libs/config/dist/index.js',
      'libs/config/dist/tsconfig.tsbuildinfo',
      '.git/HEAD',
      '.tengine/pg/PG_VERSION',
      '.nx/workspace-data/x',
      'coverage/lcov.info',
      'bench/out/report.json',
      '.env',
      'apps/gateway/test/integration/x.int-spec.ts',
      'libs/config/src/env.spec.ts',
      'deploy/k8s/base/kustomization.yaml',
    ];
    expect(excluded.filter((path) => !isIgnored(ignore, path))).toEqual([]);
    const kept = [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'tsconfig.build.json',
      'libs/testing/src/index.ts',
      'apps/platform/src/migrate.ts',
      'deploy/docker/healthcheck.mjs',
    ];
    expect(kept.filter((path) => isIgnored(ignore, path))).toEqual([]);
  });
});
