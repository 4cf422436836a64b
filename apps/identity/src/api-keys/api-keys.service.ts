import { createHash, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { generateApiKey, parseApiKey } from '@tengine/auth';
import {
  DomainError,
  Subjects,
  type ApiKeyView,
  type Principal,
  type Scope,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { MESSAGE_BUS } from '@tengine/runtime';

import { invalidApiKey } from '../identity.errors.js';
import { RegistryClient } from '../registry.client.js';
import { ApiKeysRepository, type ApiKeyRecord } from './api-keys.repository.js';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Entity to wire view; never includes the hash. */
export function toApiKeyView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    name: record.name,
    project_id: record.projectId,
    integration_id: record.integrationId,
    prefix: `tengine_${record.id.slice(0, 4)}`,
    last4: record.last4,
    scopes: record.scopes,
    created_at: record.createdAt.toISOString(),
    last_used_at: record.lastUsedAt?.toISOString() ?? null,
    revoked_at: record.revokedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly registry: RegistryClient,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  /** Creates a key from an integration of the project; the full key is in this reply only. */
  async create(input: {
    projectId: string;
    integrationId: string;
    name: string;
    scopes: Scope[];
  }): Promise<{ api_key: ApiKeyView; key: string }> {
    const integration = await this.registry.findIntegration(input.projectId, input.integrationId);
    if (!integration) {
      throw new DomainError('REGISTRY_INTEGRATION_NOT_FOUND', 'Integration not found');
    }
    const { keyId, key } = generateApiKey();
    const record = await this.repository.insert({
      id: keyId,
      projectId: input.projectId,
      integrationId: input.integrationId,
      name: input.name,
      keyHash: sha256(key),
      last4: key.slice(-4),
      scopes: [...new Set(input.scopes)],
    });
    return { api_key: toApiKeyView(record), key };
  }

  async list(projectId: string): Promise<ApiKeyView[]> {
    return (await this.repository.listByProject(projectId)).map(toApiKeyView);
  }

  /** Revokes the key and tells every gateway at once; its session tokens die with it. */
  async revoke(projectId: string, keyId: string): Promise<ApiKeyView> {
    const record = await this.repository.revoke(projectId, keyId);
    if (!record) throw new DomainError('IDENTITY_API_KEY_NOT_FOUND', 'API key not found');
    this.bus.publish(Subjects.identity.credentialRevoked, {
      kind: 'api_key',
      projectId,
      keyId,
      revokedAt: (record.revokedAt ?? new Date()).toISOString(),
    });
    return toApiKeyView(record);
  }

  /** The active key record behind `key`, or the reference's 401. Malformed keys never reach the database. */
  async authenticate(key: string): Promise<ApiKeyRecord> {
    const parsed = parseApiKey(key);
    if (!parsed) throw invalidApiKey();
    const record = await this.repository.findById(parsed.keyId);
    if (!record || record.revokedAt) throw invalidApiKey();
    const expected = Buffer.from(record.keyHash, 'hex');
    const actual = Buffer.from(sha256(key), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
      throw invalidApiKey();
    void this.repository.touch(record.id).catch(() => undefined);
    return record;
  }

  async verify(key: string): Promise<Principal> {
    const record = await this.authenticate(key);
    return {
      kind: 'api_key',
      keyId: record.id,
      projectId: record.projectId,
      integrationId: record.integrationId,
      scopes: record.scopes,
    };
  }

  /** The key by id if it is still active (used when a session token is checked). */
  async isActive(keyId: string): Promise<boolean> {
    const record = await this.repository.findById(keyId);
    return record !== undefined && record.revokedAt === null;
  }

  revokedSince(seconds: number): Promise<string[]> {
    return this.repository.revokedSince(seconds);
  }
}
