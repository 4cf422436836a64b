import { z } from 'zod';

import { ConfigError, describeVar, documentEnv, loadEnv } from './env.js';
import { COMMON_ENV, booleanVar, portVar } from './fragments.js';

describe(loadEnv.name, () => {
  const shape = {
    ...COMMON_ENV,
    PORT: portVar(3000, 'port'),
    FEATURE: booleanVar(false, 'feature flag'),
  };

  it('should apply defaults when variables are unset or empty', () => {
    const env = loadEnv(shape, { LOG_LEVEL: '', PORT: undefined });
    expect(env.PORT).toBe(3000);
    expect(env.LOG_LEVEL).toBe('info');
    expect(env.FEATURE).toBe(false);
    expect(env.MIGRATIONS_RUN).toBe(true);
    expect(env.NATS_URL).toBeUndefined();
  });

  it('should coerce numbers and booleans', () => {
    const env = loadEnv(shape, { PORT: '8080', FEATURE: 'true', MIGRATIONS_RUN: '0' });
    expect(env.PORT).toBe(8080);
    expect(env.FEATURE).toBe(true);
    expect(env.MIGRATIONS_RUN).toBe(false);
  });

  it('should name every bad variable with the reason and the value', () => {
    expect(() =>
      loadEnv(shape, { PORT: '70000', NATS_URL: 'http://x', LOG_LEVEL: 'loud' }),
    ).toThrow(ConfigError);
    try {
      loadEnv(shape, { PORT: '70000', NATS_URL: 'http://x', LOG_LEVEL: 'loud' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/PORT: .*\(got "70000"\)/);
      expect(message).toMatch(/NATS_URL: must be a URL \(nats:\/\/host:4222\)/);
      expect(message).toMatch(/LOG_LEVEL/);
      expect(message).toContain('.env.example');
      expect(message).not.toContain('or .env ');
    }
  });

  it('should never echo the value of a sensitive variable', () => {
    const secret = 'postgres://admin:hunter2@db';
    let message = '';
    try {
      loadEnv(shape, { DATABASE_URL: `${secret}:notaport` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });

  it('should document variables with their sensitivity', () => {
    const docs = documentEnv({
      A: describeVar(z.string(), { description: 'a', sensitive: true }),
      B: z.string(),
    });
    expect(docs).toEqual([
      { name: 'A', description: 'a', sensitive: true },
      { name: 'B', description: '' },
    ]);
  });
});
