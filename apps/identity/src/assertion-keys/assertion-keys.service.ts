import { Injectable } from '@nestjs/common';

import { DomainError, type AssertionKeyView } from '@tengine/contracts';

import { isAssertionAlgorithm, parseAssertionPublicKey } from './assertion-key-material.js';
import { AssertionKeysRepository, type AssertionKeyRecord } from './assertion-keys.repository.js';

function toView(record: AssertionKeyRecord): AssertionKeyView {
  return {
    id: record.id,
    project_id: record.projectId,
    kid: record.kid,
    algorithm: record.algorithm,
    public_key: record.publicKey,
    active: record.active,
    created_at: record.createdAt.toISOString(),
    deactivated_at: record.deactivatedAt?.toISOString() ?? null,
  };
}

/** Customers' public keys for member assertions; several may be active per project for rotation. */
@Injectable()
export class AssertionKeysService {
  constructor(private readonly repository: AssertionKeysRepository) {}

  async register(input: {
    projectId: string;
    kid: string;
    algorithm: string;
    public_key: string;
  }): Promise<AssertionKeyView> {
    if (!isAssertionAlgorithm(input.algorithm)) {
      throw new DomainError('IDENTITY_ALGORITHM_UNSUPPORTED', 'Unsupported algorithm');
    }
    parseAssertionPublicKey(input.public_key, input.algorithm);
    const record = await this.repository.insert(
      input.projectId,
      input.kid,
      input.algorithm,
      input.public_key.trim(),
    );
    if (!record) throw new DomainError('IDENTITY_KID_TAKEN', 'kid already exists for this project');
    return toView(record);
  }

  async list(projectId: string): Promise<AssertionKeyView[]> {
    return (await this.repository.list(projectId)).map(toView);
  }

  async deactivate(projectId: string, id: string): Promise<AssertionKeyView> {
    const record = await this.repository.deactivate(projectId, id);
    if (!record)
      throw new DomainError('IDENTITY_ASSERTION_KEY_NOT_FOUND', 'Assertion key not found');
    return toView(record);
  }
}
