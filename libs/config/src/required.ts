import type { z } from 'zod';

/**
 * Names of the variables of `shape` that must be set: those whose schema accepts no missing value,
 * i.e. neither optional nor defaulted. `loadEnv` treats an empty value as missing, so these are
 * also the variables that may not be left empty. Deployment manifests are checked against this
 * list; some apps require more at run time (e.g. `NATS_URL` outside embedded mode).
 */
export function requiredVariables(shape: Readonly<Record<string, z.ZodType>>): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
}
