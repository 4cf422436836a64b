import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The four assertion algorithms, with the openssl arguments that make a matching key. */
export const OPENSSL_KEY_SPECS = {
  ES256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ES384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  Ed25519: ['-algorithm', 'ed25519'],
  RS256: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
} as const;

export type KeyAlgorithm = keyof typeof OPENSSL_KEY_SPECS;

/** A key pair made by the `openssl` command line, as a customer would make it. */
export function opensslKeyPair(algorithm: KeyAlgorithm): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tengine-keys-'));
  try {
    const privatePath = join(dir, 'private.pem');
    const publicPath = join(dir, 'public.pem');
    execFileSync('openssl', ['genpkey', ...OPENSSL_KEY_SPECS[algorithm], '-out', privatePath], {
      stdio: 'ignore',
    });
    execFileSync('openssl', ['pkey', '-in', privatePath, '-pubout', '-out', publicPath], {
      stdio: 'ignore',
    });
    return {
      privateKey: readFileSync(privatePath, 'utf8'),
      publicKey: readFileSync(publicPath, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
