import { DomainError } from '@tengine/contracts';

import { normalizeBaseUrl } from './base-url.js';

function failure(raw: string, allow: string[] = []): { code: string; message: string } {
  try {
    normalizeBaseUrl(raw, new Set(allow));
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${raw} was accepted`);
}

describe(normalizeBaseUrl.name, () => {
  it('should reduce an HTTPS origin to its canonical form', () => {
    expect(normalizeBaseUrl('https://api.example.com', new Set())).toBe('https://api.example.com');
    expect(normalizeBaseUrl('HTTPS://API.Example.COM:443/', new Set())).toBe(
      'https://api.example.com',
    );
    expect(normalizeBaseUrl('https://api.example.com:8443', new Set())).toBe(
      'https://api.example.com:8443',
    );
    expect(normalizeBaseUrl('https://[::1]:8443', new Set())).toBe('https://[::1]:8443');
  });

  it.each([
    ['http://api.example.com', 'base_url must use HTTPS'],
    ['ftp://api.example.com', 'base_url must use HTTPS'],
    ['//api.example.com', 'base_url must use HTTPS'],
    ['api.example.com', 'base_url must use HTTPS'],
    ['https://api.example.com/v1', 'base_url must be origin-only (no paths)'],
    ['https://api.example.com//', 'base_url must be origin-only (no paths)'],
    ['https://api.example.com/v1?x=1', 'base_url must be origin-only (no paths)'],
    ['https://api.example.com?', 'base_url must be origin-only (no query or fragment)'],
    ['https://api.example.com/#top', 'base_url must be origin-only (no query or fragment)'],
    ['https://user@api.example.com', 'base_url must not contain credentials (userinfo)'],
    ['https://@api.example.com', 'base_url must not contain credentials (userinfo)'],
    ['https://{{tenant}}.example.com', 'base_url must have a static host (no {{…}} placeholders)'],
  ])('should refuse %s with 400 "%s"', (raw, message) => {
    expect(failure(raw)).toEqual({ code: 'REGISTRY_TOOL_INVALID', message });
  });

  it('should answer 422 for text that is no URL at all', () => {
    expect(failure('https://exa mple.com').code).toBe('VALIDATION_FAILED');
    expect(failure('https://').code).toBe('VALIDATION_FAILED');
  });

  it('should allow http:// only for listed hosts, by exact hostname', () => {
    expect(normalizeBaseUrl('http://localhost:8080', new Set(['localhost']))).toBe(
      'http://localhost:8080',
    );
    expect(normalizeBaseUrl('http://[::1]:3000', new Set(['::1']))).toBe('http://[::1]:3000');
    expect(failure('http://localhost.evil.com', ['localhost']).message).toBe(
      'base_url must use HTTPS',
    );
    expect(failure('http://localhost/v1', ['localhost']).message).toBe(
      'base_url must be origin-only (no paths)',
    );
  });
});
