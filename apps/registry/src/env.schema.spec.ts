import { Keyring } from '@tengine/secrets';

import { loadRegistryEnv } from './env.schema.js';

describe(loadRegistryEnv.name, () => {
  it('should parse the keyring, newest first, and the development HTTP hosts', () => {
    const env = loadRegistryEnv({
      TENGINE_SECRET_KEYS: `${Keyring.generate('new')}, ${Keyring.generate('old')}`,
      TENGINE_ALLOW_HTTP_HOSTS: ' LocalHost ,[::1],dev.internal,',
    });
    expect(env.TENGINE_SECRET_KEYS?.keyIds).toEqual(['new', 'old']);
    expect(env.TENGINE_ALLOW_HTTP_HOSTS).toEqual(['localhost', '::1', 'dev.internal']);
  });

  it('should default to no keys and no HTTP hosts', () => {
    expect(loadRegistryEnv({})).toEqual({
      TENGINE_SECRET_KEYS: null,
      TENGINE_ALLOW_HTTP_HOSTS: [],
    });
  });

  it('should name a bad key list without echoing key material', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    expect(() => loadRegistryEnv({ TENGINE_SECRET_KEYS: `k1:${short}` })).toThrow(
      /TENGINE_SECRET_KEYS: .*32 bytes/,
    );
    expect(() => loadRegistryEnv({ TENGINE_SECRET_KEYS: `k1:${short}` })).not.toThrow(short);
    expect(() => loadRegistryEnv({ TENGINE_SECRET_KEYS: short })).toThrow(/TENGINE_SECRET_KEYS/);
  });

  it('should refuse something that is not a hostname in TENGINE_ALLOW_HTTP_HOSTS', () => {
    expect(() => loadRegistryEnv({ TENGINE_ALLOW_HTTP_HOSTS: 'localhost,http://x' })).toThrow(
      /TENGINE_ALLOW_HTTP_HOSTS: "http:\/\/x" is not a hostname/,
    );
  });
});
