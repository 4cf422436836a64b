import { Keyring } from '@tengine/secrets';

/**
 * A fresh TENGINE_SECRET_KEYS value holding one random 256-bit key, for launchers that must
 * provide one (embedded mode). The key id records when it was made.
 */
export function generateSecretKeys(): string {
  return Keyring.generate(`k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`);
}
