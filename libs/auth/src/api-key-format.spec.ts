import { API_KEY_PREFIX, generateApiKey, parseApiKey, randomBase62 } from './api-key-format.js';
import { credentialFromHeaders, credentialKind } from './credentials.js';

describe('API key format', () => {
  it('should parse every generated key back to its key id', () => {
    for (let index = 0; index < 200; index += 1) {
      const { key, keyId } = generateApiKey();
      expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
      expect(key).toHaveLength(API_KEY_PREFIX.length + 16 + 32 + 6);
      expect(parseApiKey(key)).toEqual({ keyId });
    }
  });

  it('should reject any single-character change, truncation or extension through the checksum', () => {
    const { key } = generateApiKey();
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    for (let position = API_KEY_PREFIX.length; position < key.length; position += 1) {
      const current = key[position] as string;
      const replacement = alphabet[(alphabet.indexOf(current) + 1) % alphabet.length] as string;
      expect(
        parseApiKey(key.slice(0, position) + replacement + key.slice(position + 1)),
      ).toBeUndefined();
    }
    expect(parseApiKey(key.slice(0, -1))).toBeUndefined();
    expect(parseApiKey(`${key}0`)).toBeUndefined();
    expect(parseApiKey(key.replace(API_KEY_PREFIX, 'tengine-'))).toBeUndefined();
  });

  it('should draw characters uniformly from base62', () => {
    const sample = randomBase62(62_000);
    const counts = new Map<string, number>();
    for (const char of sample) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
  });
});

describe(credentialFromHeaders.name, () => {
  it('should take a Bearer token or X-API-Key, and refuse other schemes and oversized values', () => {
    expect(credentialFromHeaders({ authorization: 'Bearer abc' })).toBe('abc');
    expect(credentialFromHeaders({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(credentialFromHeaders({ 'x-api-key': ' tengine_x ' })).toBe('tengine_x');
    expect(credentialFromHeaders({})).toBeUndefined();
    expect(credentialFromHeaders({ authorization: 'Basic dXNlcjpwYXNz' })).toBeNull();
    expect(credentialFromHeaders({ authorization: 'Bearer a b' })).toBeNull();
    expect(credentialFromHeaders({ authorization: `Bearer ${'x'.repeat(5000)}` })).toBeNull();
  });

  it('should route credentials by prefix', () => {
    expect(credentialKind('tengine_abc')).toBe('api_key');
    expect(credentialKind('tng_mst_abc')).toBe('member_session');
    expect(credentialKind('tng_adm_abc')).toBe('admin');
  });
});
