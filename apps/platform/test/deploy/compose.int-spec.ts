import { join } from 'node:path';

import { loadEnv } from '@tengine/config';

import {
  appEnvShape,
  BACKENDS,
  DEFAULT_PORTS,
  EXTRA_VARIABLES,
  isApp,
  looksSecret,
  requiredFor,
  sampleSecrets,
  sensitiveVariables,
  SERVICES,
  type AppName,
} from './app-env.js';
import {
  loadCompose,
  MissingVariableError,
  readComposeFile,
  serviceDependencies,
  serviceEnvironment,
  servicePorts,
} from './compose.js';
import { parseArg, parseCopy, parseDockerfile } from './dockerfile.js';
import {
  isDirectory,
  isFile,
  isPinnedImage,
  isPlain,
  readRepoFile,
  repoPath,
  text,
  type Plain,
} from './repo.js';

// Checks docker-compose.yml statically (there is no Docker engine on the test machines): it must
// start a complete stack with `docker compose up` once the three secrets are in .env.

const SECRETS = ['POSTGRES_PASSWORD', 'TENGINE_SECRET_KEYS', 'TENGINE_ADMIN_TOKEN'] as const;
const HEALTH_EXEMPT = 'x-healthcheck-exempt';

/** Seconds of a compose duration (`1m30s`, `75s`, `500ms`). */
function seconds(duration: unknown, fallback: number): number {
  if (duration === undefined) return fallback;
  const value = text(duration);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let total = 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let consumed = '';
  for (const match of value.matchAll(pattern)) {
    total += Number(match[1]) * (units[match[2] ?? 's'] ?? Number.NaN);
    consumed += match[0];
  }
  if (consumed !== value) throw new Error(`not a duration: ${value}`);
  return total;
}

/** The app a service runs from the image (APP build argument or environment), if any. */
function appOf(service: Plain): AppName | null {
  const build = service['build'];
  const fromBuild = isPlain(build) && isPlain(build['args']) ? build['args']['APP'] : undefined;
  const fromEnvironment = serviceEnvironment(service)['APP'];
  const app = fromEnvironment ?? fromBuild;
  if (app === undefined || app === null) return null;
  if (!isApp(app)) throw new Error(`unknown APP ${text(app)}`);
  return app;
}

function healthcheckCommand(service: Plain): string[] | null {
  const healthcheck = service['healthcheck'];
  if (!isPlain(healthcheck) || healthcheck['disable'] === true) return null;
  const test = healthcheck['test'];
  if (Array.isArray(test)) return test[0] === 'NONE' ? null : test.map(String);
  return typeof test === 'string' ? ['CMD-SHELL', test] : null;
}

describe('docker-compose.yml', () => {
  const secrets = sampleSecrets();
  const variables = Object.fromEntries(SECRETS.map((name) => [name, secrets[name]]));
  const { model, services, unset } = loadCompose(variables);
  const tengine = Object.entries(services).filter(([, service]) => appOf(service) !== null);
  const longRunning = tengine.filter(([, service]) => service['profiles'] === undefined);

  it('should run every service of tengine, each from the image, plus NATS, PostgreSQL and Jaeger', () => {
    const apps = longRunning.map(([, service]) => appOf(service));
    expect([...apps].sort()).toEqual([...SERVICES].sort());
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['nats', 'postgres', 'jaeger']));
  });

  it('should refuse to start until each secret is set, and inline none of them', () => {
    for (const secret of SECRETS) {
      const withoutIt = { ...variables, [secret]: undefined };
      expect(() => loadCompose(withoutIt)).toThrow(MissingVariableError);
      expect(() => loadCompose(withoutIt)).toThrow(secret);
      expect(() => loadCompose({ ...variables, [secret]: '' })).toThrow(MissingVariableError);
    }
    // Every other variable the file uses has a default.
    expect([...unset]).toEqual([]);
  });

  it('should take every secret value from the environment, never from the file', async () => {
    const sensitive = await sensitiveVariables();
    const raw = readComposeFile();
    for (const [name, service] of Object.entries(raw['services'] as Record<string, Plain>)) {
      for (const [variable, value] of Object.entries(serviceEnvironment(service))) {
        if (!sensitive.has(variable) && !looksSecret(variable)) continue;
        const written = value ?? '';
        const userinfo = /^[a-z]+:\/\/([^/@]*)@/.exec(written)?.[1];
        // A secret itself, or the password of a URL, must be a required ${VAR:?…} interpolation.
        const secretPart =
          userinfo === undefined ? (looksSecret(variable) ? written : null) : userinfo;
        if (secretPart === null) continue;
        expect({
          service: name,
          variable,
          fromEnvironment: /\$\{[A-Z_]+:\?[^}]*\}/.test(secretPart),
        }).toEqual({ service: name, variable, fromEnvironment: true });
      }
    }
  });

  it('should give every service a healthcheck or a health-based dependency, waiting on no unchecked one', () => {
    const waitedFor = new Set(
      Object.values(services).flatMap((service) =>
        Object.entries(serviceDependencies(service))
          .filter(([, condition]) => condition === 'service_healthy')
          .map(([name]) => name),
      ),
    );
    for (const [name, service] of Object.entries(services)) {
      const command = healthcheckCommand(service);
      if (command !== null) continue;
      const healthBased = Object.values(serviceDependencies(service)).includes('service_healthy');
      expect({ name, exempt: typeof service[HEALTH_EXEMPT] === 'string' || healthBased }).toEqual({
        name,
        exempt: true,
      });
      expect({ name, waitedFor: waitedFor.has(name) }).toEqual({ name, waitedFor: false });
    }
  });

  it('should probe each tengine service for readiness with the script the image ships', () => {
    const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
    const runtime = dockerfile.stages[dockerfile.stages.length - 1];
    const shipped = (runtime?.instructions ?? [])
      .filter((instruction) => instruction.keyword === 'COPY')
      .map((instruction) => parseCopy(instruction.args))
      .filter((copy) => !copy.flags.has('from'))
      .flatMap((copy) => copy.sources);
    for (const [name, service] of longRunning) {
      const command = healthcheckCommand(service);
      expect({ name, command }).toEqual({
        name,
        command: ['CMD', 'node', 'deploy/docker/healthcheck.mjs', '/health/ready'],
      });
    }
    expect(isFile(repoPath('deploy', 'docker', 'healthcheck.mjs'))).toBe(true);
    expect(shipped).toContain('deploy/docker/healthcheck.mjs');
  });

  it('should start services after what they need is healthy, without cycles', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, condition] of Object.entries(serviceDependencies(service))) {
        expect({ name, dependency, exists: dependency in services }).toEqual({
          name,
          dependency,
          exists: true,
        });
        expect({ name, dependency, condition }).toEqual({
          name,
          dependency,
          condition: expect.stringMatching(/^service_(healthy|completed_successfully)$/) as unknown,
        });
      }
    }
    for (const [name, service] of tengine) {
      const app = appOf(service) as AppName;
      const needs = (BACKENDS as readonly string[]).includes(app)
        ? ['nats', 'postgres']
        : app === 'gateway'
          ? ['nats']
          : ['postgres'];
      expect({ name, dependsOn: Object.keys(serviceDependencies(service)) }).toEqual({
        name,
        dependsOn: expect.arrayContaining(needs) as unknown,
      });
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) throw new Error(`depends_on cycle: ${[...path, name].join(' -> ')}`);
      visiting.add(name);
      for (const dependency of Object.keys(serviceDependencies(services[name] ?? {}))) {
        visit(dependency, [...path, name]);
      }
      visiting.delete(name);
      done.add(name);
    };
    expect(() => Object.keys(services).forEach((name) => visit(name, []))).not.toThrow();
  });

  it('should build tengine services from the Dockerfile and pin every other image', () => {
    const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
    const declaredArgs = new Set([
      ...dockerfile.globalArgs.keys(),
      ...dockerfile.stages.flatMap((stage) =>
        stage.instructions
          .filter((instruction) => instruction.keyword === 'ARG')
          .flatMap((instruction) => parseArg(instruction.args).map(([name]) => name)),
      ),
    ]);
    for (const [name, service] of Object.entries(services)) {
      const build = service['build'];
      const image = service['image'];
      expect({ name, hasImage: typeof image === 'string' || build !== undefined }).toEqual({
        name,
        hasImage: true,
      });
      if (typeof image === 'string') {
        expect({ name, image, pinned: isPinnedImage(image) }).toEqual({
          name,
          image,
          pinned: true,
        });
      }
      if (build === undefined) continue;
      const context = repoPath(
        typeof build === 'string' ? build : text((build as Plain)['context'] ?? '.'),
      );
      expect({ name, context: isDirectory(context) }).toEqual({ name, context: true });
      const dockerfilePath = join(
        context,
        isPlain(build) ? text(build['dockerfile'] ?? 'Dockerfile') : 'Dockerfile',
      );
      expect({ name, dockerfile: isFile(dockerfilePath) }).toEqual({ name, dockerfile: true });
      const args = isPlain(build) && isPlain(build['args']) ? Object.keys(build['args']) : [];
      expect({ name, undeclared: args.filter((arg) => !declaredArgs.has(arg)) }).toEqual({
        name,
        undeclared: [],
      });
      const app = appOf(service);
      expect({ name, app }).toEqual({ name, app: expect.any(String) as unknown });
      expect(isFile(repoPath('apps', String(app), 'src', 'main.ts'))).toBe(true);
      // A command overriding the image's must run something the build produces.
      const command = service['command'];
      if (Array.isArray(command)) {
        for (const script of command.map(String).filter((part) => part.endsWith('.js'))) {
          const source = script.replace(/^apps\/([^/]+)\/dist\/(.+)\.js$/, 'apps/$1/src/$2.ts');
          expect({ name, script, source: isFile(repoPath(source)) }).toEqual({
            name,
            script,
            source: true,
          });
        }
      }
    }
  });

  it.each(SERVICES)('should set every variable %s requires, each valid', async (app) => {
    const entry = tengine.find(([, service]) => appOf(service) === app);
    expect(entry).toBeDefined();
    const [, service] = entry as [string, Plain];
    const environment = serviceEnvironment(service);
    const values = Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [name, value ?? undefined]),
    );
    const missing = (await requiredFor(app)).filter((name) => !values[name]?.trim());
    expect(missing).toEqual([]);
    const shape = await appEnvShape(app);
    expect(() => loadEnv(shape, values)).not.toThrow();
    expect(
      Object.keys(environment).filter((name) => !(name in shape) && !EXTRA_VARIABLES.has(name)),
    ).toEqual([]);
    expect(Number(values['PORT'] ?? DEFAULT_PORTS[app])).toBe(DEFAULT_PORTS[app]);
  });

  it('should point the services at the NATS, PostgreSQL and Jaeger of the stack', () => {
    const postgres = serviceEnvironment(services['postgres'] as Plain);
    for (const [name, service] of tengine) {
      const environment = serviceEnvironment(service);
      if (environment['NATS_URL'] !== undefined) {
        expect({ name, nats: new URL(String(environment['NATS_URL'])).host }).toEqual({
          name,
          nats: 'nats:4222',
        });
      }
      if (environment['DATABASE_URL'] !== undefined) {
        const url = new URL(String(environment['DATABASE_URL']));
        expect({
          name,
          host: url.host,
          user: url.username,
          password: url.password,
          database: url.pathname,
        }).toEqual({
          name,
          host: 'postgres:5432',
          user: postgres['POSTGRES_USER'],
          password: postgres['POSTGRES_PASSWORD'],
          database: `/${String(postgres['POSTGRES_DB'])}`,
        });
      }
      if (service['profiles'] === undefined) {
        expect({ name, otel: environment['OTEL_EXPORTER_OTLP_ENDPOINT'] }).toEqual({
          name,
          otel: 'http://jaeger:4318',
        });
      }
    }
    const jaeger = serviceEnvironment(services['jaeger'] as Plain);
    expect(jaeger['COLLECTOR_OTLP_ENABLED']).toBe('true');
  });

  it('should run NATS with JetStream on a volume, with its monitoring port', () => {
    const nats = services['nats'] as Plain;
    const command = (nats['command'] as string[]).join(' ');
    expect(command).toMatch(/(^| )(--jetstream|-js)( |$)/);
    const storeDir = /--store_dir[= ](\S+)|-sd (\S+)/.exec(command);
    const store = storeDir?.[1] ?? storeDir?.[2];
    expect(store).toBeDefined();
    const volumes = (nats['volumes'] as string[]).map((volume) => volume.split(':'));
    const dataVolume = volumes.find(([, target]) => target === store);
    expect(dataVolume).toBeDefined();
    expect(Object.keys((model['volumes'] ?? {}) as Plain)).toContain(dataVolume?.[0]);
    expect(command).toMatch(/--http_port[= ]8222|-m 8222/);
    expect(healthcheckCommand(nats)?.join(' ')).toContain(':8222/healthz');
  });

  it('should run PostgreSQL 16 on a volume, checked with pg_isready', () => {
    const postgres = services['postgres'] as Plain;
    expect(String(postgres['image'])).toMatch(/^postgres:16(\.|-|$)/);
    const volumes = (postgres['volumes'] as string[]).map((volume) => volume.split(':'));
    const data = volumes.find(([, target]) => target === '/var/lib/postgresql/data');
    expect(Object.keys((model['volumes'] ?? {}) as Plain)).toContain(data?.[0]);
    expect(healthcheckCommand(postgres)).toContain('pg_isready');
  });

  it('should run two executors or more, and let the backends migrate at boot', () => {
    const [, executor] = tengine.find(([, service]) => appOf(service) === 'executor') as [
      string,
      Plain,
    ];
    expect(Number((executor['deploy'] as Plain)['replicas'])).toBeGreaterThan(1);
    for (const [name, service] of tengine) {
      const app = appOf(service) as AppName;
      if (!(BACKENDS as readonly string[]).includes(app)) continue;
      const values = serviceEnvironment(service);
      const migratesAtBoot = !['false', '0', 'no'].includes(
        String(values['MIGRATIONS_RUN'] ?? 'true'),
      );
      const afterMigrate = Object.values(serviceDependencies(service)).includes(
        'service_completed_successfully',
      );
      expect({ name, migrated: migratesAtBoot || afterMigrate }).toEqual({ name, migrated: true });
    }
  });

  it('should publish the gateway on the host without two services taking one port', () => {
    const taken: Array<{ service: string; hostIp: string; published: number; protocol: string }> =
      [];
    for (const [name, service] of Object.entries(services)) {
      const replicas = isPlain(service['deploy']) ? Number(service['deploy']['replicas'] ?? 1) : 1;
      for (const port of servicePorts(service)) {
        if (port.published === null) continue;
        // Replicas cannot share a fixed host port.
        expect({ name, replicas }).toEqual({ name, replicas: 1 });
        const clash = taken.find(
          (other) =>
            other.published === port.published &&
            other.protocol === port.protocol &&
            (other.hostIp === port.hostIp ||
              other.hostIp === '0.0.0.0' ||
              port.hostIp === '0.0.0.0'),
        );
        expect({ name, port: port.published, clash: clash?.service }).toEqual({
          name,
          port: port.published,
          clash: undefined,
        });
        taken.push({
          service: name,
          hostIp: port.hostIp,
          published: port.published,
          protocol: port.protocol,
        });
      }
      if (replicas > 1) expect(service['container_name']).toBeUndefined();
    }
    const [, gateway] = tengine.find(([, service]) => appOf(service) === 'gateway') as [
      string,
      Plain,
    ];
    const published = servicePorts(gateway).find((port) => port.target === DEFAULT_PORTS.gateway);
    // http://localhost:3000/mcp
    expect(published?.published).toBe(3000);
    expect(published?.hostIp).toBe('0.0.0.0');
  });

  it('should give each service time to finish its work after SIGTERM before it is killed', () => {
    for (const [name, service] of longRunning) {
      const graceMs = Number(serviceEnvironment(service)['SHUTDOWN_GRACE_MS'] ?? 10_000);
      const stopAfter = seconds(service['stop_grace_period'], 10) * 1000;
      expect({ name, enough: stopAfter > graceMs }).toEqual({ name, enough: true });
      expect(service['stop_signal'] ?? 'SIGTERM').toBe('SIGTERM');
    }
  });
});
