import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';

import type { z } from 'zod';

import { AUDIT_DEFAULT_PORT } from '@tengine/audit';
import { isSensitive, requiredVariables } from '@tengine/config';
import { EXECUTOR_DEFAULT_PORT } from '@tengine/executor';
import { GATEWAY_ENV } from '@tengine/gateway';
import { IDENTITY_DEFAULT_PORT } from '@tengine/identity';
import { REGISTRY_DEFAULT_PORT } from '@tengine/registry';
import { backendEnvShape } from '@tengine/runtime';
import { Keyring } from '@tengine/secrets';

import { PLATFORM_ENV } from '../../src/env.schema.js';

import { isFile, repoPath } from './repo.js';

/** The apps the image can run (APP), each deployed on its own except the all-in-one platform. */
export const SERVICES = ['gateway', 'registry', 'identity', 'executor', 'audit'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type AppName = ServiceName | 'platform';
export const APPS: readonly AppName[] = [...SERVICES, 'platform'];
export const BACKENDS: readonly ServiceName[] = ['registry', 'identity', 'executor', 'audit'];

export function isApp(value: unknown): value is AppName {
  return typeof value === 'string' && (APPS as readonly string[]).includes(value);
}

export type EnvShape = Record<string, z.ZodType>;

/** Each app's default PORT, from its own code. */
export const DEFAULT_PORTS: Readonly<Record<AppName, number>> = {
  gateway: GATEWAY_ENV.PORT.parse(undefined),
  registry: REGISTRY_DEFAULT_PORT,
  identity: IDENTITY_DEFAULT_PORT,
  executor: EXECUTOR_DEFAULT_PORT,
  audit: AUDIT_DEFAULT_PORT,
  platform: PLATFORM_ENV.PORT.parse(undefined),
};

/**
 * Variables the entry points refuse to start without although their schemas make them optional
 * (the same schemas serve the embedded platform, where they are optional):
 * apps/gateway/src/main.ts needs NATS_URL; libs/runtime/src/backend-main.ts (runBackendMain)
 * needs NATS_URL and DATABASE_URL.
 */
const REQUIRED_AT_BOOT: Record<AppName, readonly string[]> = {
  gateway: ['NATS_URL'],
  registry: ['NATS_URL', 'DATABASE_URL'],
  identity: ['NATS_URL', 'DATABASE_URL'],
  executor: ['NATS_URL', 'DATABASE_URL'],
  audit: ['NATS_URL', 'DATABASE_URL'],
  platform: [],
};

/**
 * Variables a distributed deployment needs although the apps start without them (README,
 * .env.example): without TENGINE_ADMIN_TOKEN no admin token exists; without TENGINE_SECRET_KEYS
 * the registry cannot store tool secrets.
 */
const REQUIRED_IN_DEPLOYMENT: Record<AppName, readonly string[]> = {
  gateway: [],
  registry: ['TENGINE_SECRET_KEYS'],
  identity: ['TENGINE_ADMIN_TOKEN'],
  executor: [],
  audit: [],
  platform: [],
};

/**
 * Variables read outside the env schemas: APP by the image's command, OTEL_SERVICE_NAME by
 * libs/telemetry, and the parts the Kubernetes manifests build DATABASE_URL from.
 */
export const EXTRA_VARIABLES: ReadonlySet<string> = new Set([
  'APP',
  'OTEL_SERVICE_NAME',
  'DATABASE_HOST',
  'DATABASE_PORT',
  'DATABASE_NAME',
  'DATABASE_USER',
  'DATABASE_PASSWORD',
]);

/** The `*_ENV` shapes exported by apps/<app>/src/env.schema.ts, loaded from the app's source. */
async function ownShapes(app: AppName): Promise<EnvShape> {
  const file = repoPath('apps', app, 'src', 'env.schema.ts');
  if (!isFile(file)) return {};
  const exported = (await import(file)) as Record<string, unknown>;
  const shapes = Object.entries(exported).filter(([name]) => name.endsWith('_ENV'));
  if (shapes.length === 0) throw new Error(`${file} exports no *_ENV shape`);
  return Object.assign({}, ...shapes.map(([, shape]) => shape as EnvShape)) as EnvShape;
}

/**
 * Every variable `app` validates when run from the image: the gateway and the platform validate
 * their own complete shape; a backend validates the runtime's backend shape and its own.
 */
export async function appEnvShape(app: AppName): Promise<EnvShape> {
  const own = await ownShapes(app);
  if (app === 'gateway' || app === 'platform') return own;
  return { ...backendEnvShape(DEFAULT_PORTS[app]), ...own };
}

/** What `app` needs set in a distributed deployment. */
export async function requiredFor(app: AppName): Promise<string[]> {
  const shape = await appEnvShape(app);
  return [
    ...new Set([
      ...requiredVariables(shape),
      ...REQUIRED_AT_BOOT[app],
      ...REQUIRED_IN_DEPLOYMENT[app],
    ]),
  ];
}

/** Names of variables whose values are secret: marked sensitive in any app's schema. */
export async function sensitiveVariables(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const app of APPS) {
    for (const [name, schema] of Object.entries(await appEnvShape(app))) {
      if (isSensitive(schema)) names.add(name);
    }
  }
  return names;
}

/** A name that looks like it holds a secret, whether or not a schema knows it. */
export function looksSecret(name: string): boolean {
  return /PASSWORD|SECRET|TOKEN|_KEYS?$/.test(name);
}

/** Valid stand-ins for the secrets an operator provides (.env, the Kubernetes Secret). */
export function sampleSecrets(): Record<string, string> {
  const password = randomBytes(24).toString('hex');
  return {
    POSTGRES_PASSWORD: password,
    DATABASE_PASSWORD: password,
    TENGINE_SECRET_KEYS: Keyring.generate('k1'),
    TENGINE_ADMIN_TOKEN: randomBytes(36).toString('base64'),
  };
}

/** Every directory under apps/ (each should be an app the image can run). */
export function appDirectories(): string[] {
  return readdirSync(repoPath('apps'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
