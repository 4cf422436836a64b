import type { DataSource } from 'typeorm';

import { SecretDecryptError, type Keyring } from '@tengine/secrets';

import { queryRows } from '../common/sql.js';
import { toolSecretContext } from './tool-secrets.js';

/** A stored secret that could not be re-encrypted (it stays as it was). */
export interface RotationFailure {
  readonly toolId: string;
  readonly version: number;
  readonly reason: string;
}

/** What a rotation did. */
export interface RotationReport {
  /** The key every secret is now sealed with. */
  readonly keyId: string;
  readonly rotated: number;
  readonly failed: readonly RotationFailure[];
}

interface SealedRow {
  readonly tool_id: string;
  readonly version: number;
  readonly project_id: string;
  readonly auth_secret: string;
}

const FIRST = { toolId: '00000000-0000-0000-0000-000000000000', version: 0 };

/**
 * Re-seals every stored tool secret (of every version) that is not yet under the keyring's newest
 * key, in small transactions, walking the table once in key order. Plaintexts exist only in memory
 * for the moment of re-sealing. Secrets that cannot be opened are reported, left untouched.
 */
export async function rotateToolSecrets(
  dataSource: DataSource,
  keyring: Keyring,
  batchSize = 100,
): Promise<RotationReport> {
  const keyId = keyring.currentKeyId;
  const failed: RotationFailure[] = [];
  let rotated = 0;
  let cursor = FIRST;
  for (;;) {
    const batch = await dataSource.transaction(async (manager) => {
      const rows = await queryRows<SealedRow>(
        manager,
        `SELECT tool_id, version, project_id, auth_secret FROM registry.tool_versions
          WHERE auth_secret IS NOT NULL AND split_part(auth_secret, '.', 2) <> $1
            AND (tool_id, version) > ($2::uuid, $3::int)
          ORDER BY tool_id, version LIMIT $4
          FOR UPDATE`,
        [keyId, cursor.toolId, cursor.version, batchSize],
      );
      for (const row of rows) {
        const context = toolSecretContext(row.project_id, row.tool_id);
        let resealed: string;
        try {
          resealed = keyring.seal(keyring.open(row.auth_secret, context), context);
        } catch (error) {
          if (!(error instanceof SecretDecryptError)) throw error;
          failed.push({ toolId: row.tool_id, version: row.version, reason: error.message });
          continue;
        }
        await manager.query(
          `UPDATE registry.tool_versions SET auth_secret = $3
            WHERE tool_id = $1 AND version = $2 AND auth_secret = $4`,
          [row.tool_id, row.version, resealed, row.auth_secret],
        );
        rotated += 1;
      }
      return rows;
    });
    const last = batch[batch.length - 1];
    if (!last || batch.length < batchSize) break;
    cursor = { toolId: last.tool_id, version: last.version };
  }
  return { keyId, rotated, failed };
}
