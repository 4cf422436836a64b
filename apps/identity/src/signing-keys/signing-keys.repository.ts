import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@tengine/runtime';

export interface SigningKeyRecord {
  readonly kid: string;
  readonly privateKeySealed: string;
  readonly publicJwk: Record<string, string>;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

interface Row {
  kid: string;
  private_key_sealed: string;
  public_jwk: Record<string, string>;
  created_at: Date;
  retired_at: Date | null;
}

const toRecord = (row: Row): SigningKeyRecord => ({
  kid: row.kid,
  privateKeySealed: row.private_key_sealed,
  publicJwk: row.public_jwk,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
});

const LOCK_KEY = BigInt.asIntN(
  64,
  BigInt(
    `0x${createHash('sha256').update('tengine:identity:signing-key').digest('hex').slice(0, 16)}`,
  ),
).toString();

/** identity.signing_keys: identity's own EdDSA keys; private halves sealed with the master keyring. */
@Injectable()
export class SigningKeysRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async findActive(): Promise<SigningKeyRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM identity.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Keys that may have signed a token still valid: active ones and those retired within the window. */
  async findVerifiable(windowSeconds: number): Promise<SigningKeyRecord[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM identity.signing_keys
       WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1) ORDER BY created_at DESC`,
      [windowSeconds],
    );
    return rows.map(toRecord);
  }

  /** Every signing key, for re-sealing under a new master key. */
  async findAll(): Promise<SigningKeyRecord[]> {
    const rows = await this.dataSource.query<Row[]>(`SELECT * FROM identity.signing_keys`);
    return rows.map(toRecord);
  }

  async updateSealed(kid: string, privateKeySealed: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE identity.signing_keys SET private_key_sealed = $2 WHERE kid = $1`,
      [kid, privateKeySealed],
    );
  }

  /**
   * Runs `work` holding a transaction-scoped advisory lock, so replicas booting or rotating at
   * the same moment create one key, not several.
   */
  async exclusively<T>(
    work: (
      insert: (
        record: Omit<SigningKeyRecord, 'createdAt' | 'retiredAt'>,
        retirePrevious: boolean,
      ) => Promise<void>,
      findActive: () => Promise<SigningKeyRecord | undefined>,
    ) => Promise<T>,
  ): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      return work(
        async (record, retirePrevious) => {
          if (retirePrevious)
            await manager.query(
              `UPDATE identity.signing_keys SET retired_at = now() WHERE retired_at IS NULL`,
            );
          await manager.query(
            `INSERT INTO identity.signing_keys (kid, private_key_sealed, public_jwk) VALUES ($1, $2, $3)`,
            [record.kid, record.privateKeySealed, JSON.stringify(record.publicJwk)],
          );
        },
        async () => {
          const rows = await manager.query<Row[]>(
            `SELECT * FROM identity.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
          );
          return rows[0] ? toRecord(rows[0]) : undefined;
        },
      );
    });
  }
}
