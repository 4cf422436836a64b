import { z } from 'zod';

import { describeVar } from './env.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function url(protocols: readonly string[], hint: string): z.ZodType<string> {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${hint})` },
  );
}

/** A TCP port, 0 meaning "any free port". */
export function portVar(defaultPort: number, description: string): z.ZodType<number> {
  return describeVar(z.coerce.number().int().min(0).max(65535).default(defaultPort), {
    description,
  });
}

/** `true`/`false`/`1`/`0` with a default. */
export function booleanVar(defaultValue: boolean, description: string): z.ZodType<boolean> {
  return describeVar(
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1' || value === 'yes')
      .default(defaultValue),
    { description },
  );
}

/** Variables every service reads. */
export const COMMON_ENV = {
  NATS_URL: describeVar(url(['nats:', 'tls:'], 'nats://host:4222').optional(), {
    description:
      'NATS server URL (may carry credentials). Unset: services talk in-process (embedded mode only).',
    sensitive: true,
  }),
  NATS_SUBJECT_PREFIX: describeVar(
    z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, 'must be 1-64 lowercase letters, digits or "_"')
      .optional(),
    {
      description:
        'Optional namespace prepended to every subject, to share one NATS between stacks.',
    },
  ),
  DATABASE_URL: describeVar(
    url(['postgres:', 'postgresql:'], 'postgres://user:pass@host:5432/db').optional(),
    {
      description: 'PostgreSQL connection URL. Unset: embedded PostgreSQL (embedded mode only).',
      sensitive: true,
    },
  ),
  MIGRATIONS_RUN: booleanVar(true, 'Apply pending migrations of this service at boot.'),
  LOG_LEVEL: describeVar(z.enum(LOG_LEVELS).default('info'), { description: 'pino log level.' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: describeVar(
    url(['http:', 'https:'], 'http://collector:4318').optional(),
    {
      description: 'OTLP/HTTP collector base URL. Unset: traces are not exported.',
    },
  ),
  RPC_TIMEOUT_MS: describeVar(z.coerce.number().int().min(50).max(120_000).default(5000), {
    description: 'How long a NATS request waits for its reply before failing with 503/504.',
  }),
  SHUTDOWN_GRACE_MS: describeVar(z.coerce.number().int().min(0).max(600_000).default(10_000), {
    description: 'How long in-flight work may take to finish after SIGTERM.',
  }),
} as const;
