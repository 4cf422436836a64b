import { z } from 'zod';

/** Raised at boot when the environment is invalid. Its message names every bad variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Metadata kept for each variable: documentation and whether its value must never be logged. */
export interface EnvVarDoc {
  readonly description: string;
  readonly sensitive?: boolean;
}

const docs = new WeakMap<z.ZodType, EnvVarDoc>();

/** Attaches documentation (and the `sensitive` mark) to a variable's schema. */
export function describeVar<T extends z.ZodType>(schema: T, doc: EnvVarDoc): T {
  docs.set(schema, doc);
  return schema;
}

/** True when the variable's value must never be logged or echoed in an error. */
export function isSensitive(schema: z.ZodType): boolean {
  return docs.get(schema)?.sensitive === true;
}

type EnvShape = Record<string, z.ZodType>;

/**
 * Validates `env` against `shape` once and returns the typed result. Empty strings count as unset,
 * so `FOO=` falls back to the default. On failure every bad variable is named with the reason;
 * the values of sensitive variables are never echoed.
 */
export function loadEnv<S extends EnvShape>(
  shape: S,
  env: Readonly<Record<string, string | undefined>>,
): z.output<z.ZodObject<S>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    input[key] = value === undefined || value.trim() === '' ? undefined : value;
  }
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const schema = shape[name];
    const shown =
      schema && !isSensitive(schema) && input[name] !== undefined ? ` (got "${input[name]}")` : '';
    return `  - ${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(
    `Invalid environment variables:\n${lines.join('\n')}\nFix them in the environment (every variable is described in .env.example).`,
  );
}

/** Lists the variables of `shape` with their documentation, for the README and startup banners. */
export function documentEnv(shape: EnvShape): Array<{ name: string } & EnvVarDoc> {
  return Object.entries(shape).map(([name, schema]) => ({
    name,
    ...(docs.get(schema) ?? { description: '' }),
  }));
}
