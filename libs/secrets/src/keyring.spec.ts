import { Keyring, SecretDecryptError } from './keyring.js';

describe(Keyring.name, () => {
  const keyring = Keyring.parse(`${Keyring.generate('new')},${Keyring.generate('old')}`);

  it('should open what it sealed, with the same context only', () => {
    const sealed = keyring.seal('whsec_abc', 'project-1/tool-1');
    expect(sealed).not.toContain('whsec_abc');
    expect(keyring.open(sealed, 'project-1/tool-1')).toBe('whsec_abc');
    expect(() => keyring.open(sealed, 'project-1/tool-2')).toThrow(SecretDecryptError);
  });

  it('should seal with the newest key and still open values sealed with an older one', () => {
    expect(Keyring.keyIdOf(keyring.seal('s', 'c'))).toBe('new');
    const onlyOld = new Keyring([{ id: 'old', key: Buffer.alloc(32, 7) }]);
    const rotated = new Keyring([
      { id: 'new', key: Buffer.alloc(32, 9) },
      { id: 'old', key: Buffer.alloc(32, 7) },
    ]);
    const sealedByOld = onlyOld.seal('secret', 'ctx');
    expect(rotated.open(sealedByOld, 'ctx')).toBe('secret');
  });

  it('should refuse altered, truncated or foreign values', () => {
    const sealed = keyring.seal('secret', 'ctx');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    const tampered = [parts[0], parts[1], parts[2], body.toString('base64url')].join('.');
    expect(() => keyring.open(tampered, 'ctx')).toThrow(/authentication failed/);
    expect(() => keyring.open('v1.new.AAAA.AA', 'ctx')).toThrow(/truncated/);
    expect(() => keyring.open('plaintext', 'ctx')).toThrow(/unrecognised format/);
    expect(() => keyring.open(sealed.replace('.new.', '.gone.'), 'ctx')).toThrow(
      /not in the keyring/,
    );
  });

  it('should reject malformed key lists without echoing key material', () => {
    expect(() => Keyring.parse('nokey')).toThrow(/<kid>:<base64 key>/);
    expect(() => Keyring.parse('k1:c2hvcnQ=')).toThrow(/must be 32 bytes/);
    expect(() => Keyring.parse('')).toThrow(/at least one key/);
    try {
      Keyring.parse('k1:c2hvcnQ=');
    } catch (error) {
      expect((error as Error).message).not.toContain('c2hvcnQ');
    }
  });
});
