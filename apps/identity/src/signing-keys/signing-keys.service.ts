import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto';

import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';

import { SESSION_TOKEN_ALGORITHM, SESSION_TOKEN_TTL_SECONDS } from '@tengine/auth';
import { Subjects, type Jwks } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { MESSAGE_BUS, RAW_ENVIRONMENT } from '@tengine/runtime';
import { Keyring } from '@tengine/secrets';

import { loadIdentityEnv } from '../env.schema.js';
import { SigningKeysRepository, type SigningKeyRecord } from './signing-keys.repository.js';

/** A retired key stays published this long: every token it signed has expired by then. */
const VERIFY_WINDOW_SECONDS = SESSION_TOKEN_TTL_SECONDS + 60;
/** How long a replica trusts its cached active key before looking again (another replica may rotate). */
const ACTIVE_KEY_CACHE_MS = 30_000;

interface ActiveKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly loadedAt: number;
}

/** Identity's own EdDSA signing keys for session tokens, rotated without breaking issued tokens. */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly keyring: Keyring;
  private active: ActiveKey | undefined;
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(
    private readonly repository: SigningKeysRepository,
    @Inject(RAW_ENVIRONMENT) environment: Readonly<Record<string, string | undefined>>,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {
    this.keyring = Keyring.parse(loadIdentityEnv(environment).TENGINE_SECRET_KEYS);
  }

  async onModuleInit(): Promise<void> {
    await this.repository.exclusively(async (insert, findActive) => {
      if (!(await findActive())) await insert(this.newKey(), false);
    });
    await this.resealUnderCurrentKey();
  }

  /**
   * Re-seals private keys sealed under an older master key, so an operator can rotate
   * TENGINE_SECRET_KEYS (prepend the new key, restart, then drop the old one) without losing them.
   */
  private async resealUnderCurrentKey(): Promise<void> {
    for (const record of await this.repository.findAll()) {
      if (Keyring.keyIdOf(record.privateKeySealed) === this.keyring.currentKeyId) continue;
      const context = `identity/signing-key/${record.kid}`;
      const pem = this.keyring.open(record.privateKeySealed, context);
      await this.repository.updateSealed(record.kid, this.keyring.seal(pem, context));
    }
  }

  private newKey(): Omit<SigningKeyRecord, 'createdAt' | 'retiredAt'> {
    const kid = `sk_${randomUUID()}`;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    return {
      kid,
      privateKeySealed: this.keyring.seal(pem, `identity/signing-key/${kid}`),
      publicJwk: { ...jwk, kid, alg: SESSION_TOKEN_ALGORITHM, use: 'sig' },
    };
  }

  /** The key new session tokens are signed with. */
  async signer(): Promise<{ kid: string; privateKey: KeyObject }> {
    if (this.active && Date.now() - this.active.loadedAt < ACTIVE_KEY_CACHE_MS) return this.active;
    const record = await this.repository.findActive();
    if (!record) throw new Error('No active signing key; identity did not finish booting');
    const pem = this.keyring.open(record.privateKeySealed, `identity/signing-key/${record.kid}`);
    this.active = { kid: record.kid, privateKey: createPrivateKey(pem), loadedAt: Date.now() };
    return this.active;
  }

  /** The public JWK Set: the active key and recently retired ones. */
  async jwks(): Promise<Jwks> {
    const records = await this.repository.findVerifiable(VERIFY_WINDOW_SECONDS);
    return { keys: records.map((record) => record.publicJwk as Jwks['keys'][number]) };
  }

  /** Public key for a `kid`, if it may still verify tokens. */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    const cached = this.publicKeys.get(kid);
    if (cached) return cached;
    const record = (await this.repository.findVerifiable(VERIFY_WINDOW_SECONDS)).find(
      (candidate) => candidate.kid === kid,
    );
    if (!record) return undefined;
    const key = createPublicKey({ key: record.publicJwk, format: 'jwk' });
    this.publicKeys.set(kid, key);
    return key;
  }

  /** Starts signing with a new key; the old one keeps verifying until its tokens have expired. */
  async rotate(): Promise<{ kid: string }> {
    const record = this.newKey();
    await this.repository.exclusively((insert) => insert(record, true));
    this.active = undefined;
    this.bus.publish(Subjects.identity.signingKeyRotated, { kid: record.kid });
    return { kid: record.kid };
  }
}
