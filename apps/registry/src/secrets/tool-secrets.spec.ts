import { DomainError } from '@tengine/contracts';
import { Keyring } from '@tengine/secrets';
import { captureLogger } from '@tengine/testing';

import { lastFour, secretStatus, ToolSecrets } from './tool-secrets.js';

describe(ToolSecrets.name, () => {
  const logs = captureLogger('registry');
  const keyring = Keyring.parse(`${Keyring.generate('k2')},${Keyring.generate('k1')}`);
  const secrets = new ToolSecrets(keyring, logs.logger);

  function decryptError(action: () => unknown): DomainError {
    try {
      action();
    } catch (error) {
      if (error instanceof DomainError) return error;
      throw error;
    }
    throw new Error('decryption succeeded');
  }

  it('should seal under the newest key, bound to the project and tool, and open only there', () => {
    const stored = secrets.seal('whsec_0123456789abcdef', 'project-a', 'tool-1');
    expect(stored.sealed).toMatch(/^v1\.k2\./);
    expect(stored.sealed).not.toContain('whsec');
    expect(stored.last4).toBe('cdef');
    expect(secrets.open(stored.sealed, 'project-a', 'tool-1')).toBe('whsec_0123456789abcdef');
    for (const [project, tool] of [
      ['project-a', 'tool-2'],
      ['project-b', 'tool-1'],
    ] as const) {
      const error = decryptError(() => secrets.open(stored.sealed, project, tool));
      expect({ code: error.code, message: error.message }).toEqual({
        code: 'REGISTRY_SECRET_DECRYPT_FAILED',
        message: 'Failed to decrypt auth secret',
      });
    }
    expect(logs.text()).not.toContain('whsec');
  });

  it('should use a fresh nonce every time', () => {
    expect(secrets.seal('same', 'p', 't').sealed).not.toBe(secrets.seal('same', 'p', 't').sealed);
  });

  it('should fail to open anything without keys, and refuse to seal, saying why', () => {
    const none = new ToolSecrets(null, logs.logger);
    expect(decryptError(() => none.open('v1.k1.AAAA.AAAA', 'p', 't')).code).toBe(
      'REGISTRY_SECRET_DECRYPT_FAILED',
    );
    expect(decryptError(() => none.seal('x', 'p', 't')).code).toBe(
      'REGISTRY_SECRET_KEYS_NOT_CONFIGURED',
    );
  });
});

describe(lastFour.name, () => {
  it('should show the last four characters of long secrets only, by code point', () => {
    expect(lastFour('0123456789ab')).toBe('89ab');
    expect(lastFour('01234567890')).toBeNull();
    expect(lastFour('0123456789🔑🔑🔑🔑')).toBe('🔑🔑🔑🔑');
  });

  it('should describe a missing secret as not set', () => {
    expect(secretStatus(null)).toEqual({ set: false, last4: null });
    expect(secretStatus({ last4: 'abcd' })).toEqual({ set: true, last4: 'abcd' });
  });
});
