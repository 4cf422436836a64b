import { z } from 'zod';

import { describeVar } from './env.js';
import { booleanVar, COMMON_ENV, portVar } from './fragments.js';
import { requiredVariables } from './required.js';

describe(requiredVariables.name, () => {
  it('should list the variables that are neither optional nor defaulted, in shape order', () => {
    const shape = {
      TOKEN: describeVar(z.string().min(32), { description: 'token', sensitive: true }),
      PORT: portVar(3000, 'port'),
      FLAG: booleanVar(false, 'flag'),
      OPTIONAL: z.string().optional(),
      OPTIONAL_TRANSFORMED: z
        .string()
        .optional()
        .transform((value) => value ?? 'fallback'),
      DEFAULTED: z.coerce.number().default(5),
      URL: z.url(),
    };
    expect(requiredVariables(shape)).toEqual(['TOKEN', 'URL']);
  });

  it('should find nothing required in the shared variables (each has a default or is optional)', () => {
    expect(requiredVariables(COMMON_ENV)).toEqual([]);
  });

  it('should count a refined string as required', () => {
    const shape = {
      KEYS: z.string().superRefine((value, context) => {
        if (!value.includes(':')) context.addIssue({ code: 'custom', message: 'kid:key' });
      }),
    };
    expect(requiredVariables(shape)).toEqual(['KEYS']);
  });
});
