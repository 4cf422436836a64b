import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Raised when a sealed secret cannot be opened: wrong key, wrong binding, or tampered bytes. */
export class SecretDecryptError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt secret: ${reason}`);
    this.name = 'SecretDecryptError';
  }
}

const FORMAT = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Master keys for encrypting secrets at rest with AES-256-GCM. The first key seals new secrets;
 * all keys open old ones, so keys rotate by prepending a new one, re-sealing, then dropping the old.
 */
export class Keyring {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(entries: ReadonlyArray<{ id: string; key: Buffer }>) {
    const first = entries[0];
    if (!first) throw new Error('A keyring needs at least one key');
    const keys = new Map<string, Buffer>();
    for (const { id, key } of entries) {
      if (!KEY_ID.test(id)) throw new Error(`Key id "${id}" must be 1-32 of A-Z a-z 0-9 _ -`);
      if (key.length !== 32)
        throw new Error(`Key "${id}" must be 32 bytes (base64 of 32 random bytes)`);
      if (keys.has(id)) throw new Error(`Key id "${id}" appears twice`);
      keys.set(id, key);
    }
    this.keys = keys;
    this.currentKeyId = first.id;
  }

  /**
   * Parses `kid:base64key[,kid2:base64key…]`, newest first. Errors never include key material.
   */
  static parse(value: string): Keyring {
    const entries = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part, index) => {
        const separator = part.indexOf(':');
        if (separator <= 0) throw new Error(`entry ${index + 1} must look like <kid>:<base64 key>`);
        return {
          id: part.slice(0, separator),
          key: Buffer.from(part.slice(separator + 1), 'base64'),
        };
      });
    return new Keyring(entries);
  }

  /** A keyring of one freshly generated key, in the `parse` format. */
  static generate(id = `k${Date.now().toString(36)}`): string {
    return `${id}:${randomBytes(32).toString('base64')}`;
  }

  /** Key ids, newest first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Encrypts `plaintext` bound to `context` (e.g. project and row id): the result only opens with
   * the same context, so a sealed value copied to another row is useless.
   */
  seal(plaintext: string, context: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(`${FORMAT}|${this.currentKeyId}|${context}`, 'utf8'));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return [
      FORMAT,
      this.currentKeyId,
      nonce.toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** Opens a value made by {@link Keyring.seal} with the same context. */
  open(sealed: string, context: string): string {
    const [format, keyId, nonceText, bodyText, extra] = sealed.split('.');
    if (format !== FORMAT || !keyId || !nonceText || !bodyText || extra !== undefined) {
      throw new SecretDecryptError('unrecognised format');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptError(`key "${keyId}" is not in the keyring`);
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== 12 || body.length < 16) throw new SecretDecryptError('truncated value');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(`${FORMAT}|${keyId}|${context}`, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - 16)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretDecryptError(
        'authentication failed (wrong key, wrong binding or altered value)',
      );
    }
  }

  /** The key id a sealed value was made with, or undefined when it is not a sealed value. */
  static keyIdOf(sealed: string): string | undefined {
    const [format, keyId] = sealed.split('.');
    return format === FORMAT ? keyId : undefined;
  }
}
