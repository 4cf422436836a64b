import { DomainError, TOOL_ERROR_DETAILS, type AuthSecretStatus } from '@tengine/contracts';
import { SecretDecryptError, type Keyring } from '@tengine/secrets';
import type { Logger } from '@tengine/telemetry';

/** Secrets shorter than this show no last four characters: they would give away too much. */
const LAST4_MIN_LENGTH = 12;

/** A tool secret as stored: sealed by the keyring, plus what reads may show. */
export interface StoredSecret {
  /** `v1.<kid>.<nonce>.<ciphertext+tag>` (see `@tengine/secrets`). */
  readonly sealed: string;
  readonly last4: string | null;
}

/**
 * The associated data every tool secret is bound to: a ciphertext copied to another tool's row (or
 * another project's) fails authentication instead of leaking the secret to the wrong API.
 */
export function toolSecretContext(projectId: string, toolId: string): string {
  return `registry/tool-auth-secret/${projectId}/${toolId}`;
}

/** The last four characters of a long enough secret (by code point), else null. */
export function lastFour(secret: string): string | null {
  const characters = [...secret];
  return characters.length >= LAST4_MIN_LENGTH ? characters.slice(-4).join('') : null;
}

/** What reads say about a stored secret. */
export function secretStatus(secret: { readonly last4: string | null } | null): AuthSecretStatus {
  return secret === null ? { set: false, last4: null } : { set: true, last4: secret.last4 };
}

/** Seals and opens tool auth secrets with the registry's keyring (AES-256-GCM, per-tool binding). */
export class ToolSecrets {
  constructor(
    private readonly keyring: Keyring | null,
    private readonly logger: Logger,
  ) {}

  /** Id of the key new secrets are sealed with, or null when none is configured. */
  get currentKeyId(): string | null {
    return this.keyring?.currentKeyId ?? null;
  }

  seal(plaintext: string, projectId: string, toolId: string): StoredSecret {
    if (this.keyring === null) {
      throw new DomainError(
        'REGISTRY_SECRET_KEYS_NOT_CONFIGURED',
        'The registry has no TENGINE_SECRET_KEYS, so it cannot store encrypted_auth_secret',
      );
    }
    return {
      sealed: this.keyring.seal(plaintext, toolSecretContext(projectId, toolId)),
      last4: lastFour(plaintext),
    };
  }

  /** Opens a stored secret; any failure is the reference's 500 `Failed to decrypt auth secret`. */
  open(sealed: string, projectId: string, toolId: string): string {
    try {
      if (this.keyring === null) throw new SecretDecryptError('TENGINE_SECRET_KEYS is not set');
      return this.keyring.open(sealed, toolSecretContext(projectId, toolId));
    } catch (error) {
      // The reason names a key id or a failed check, never key material or the secret.
      this.logger.error(
        { projectId, toolId, reason: (error as Error).message },
        'tool auth secret could not be decrypted',
      );
      throw new DomainError('REGISTRY_SECRET_DECRYPT_FAILED', TOOL_ERROR_DETAILS.decryptFailed, {
        cause: error,
      });
    }
  }
}
