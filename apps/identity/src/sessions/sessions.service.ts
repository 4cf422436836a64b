import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

import { SESSION_TOKEN_TTL_SECONDS, signSessionToken } from '@tengine/auth';
import {
  DomainError,
  Subjects,
  type MintedSession,
  type Principal,
  type Scope,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { MESSAGE_BUS } from '@tengine/runtime';

import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { invalidApiKey } from '../identity.errors.js';
import { RegistryClient } from '../registry.client.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { AssertionVerifier } from './assertion-verifier.js';
import { SessionsRepository } from './sessions.repository.js';

/** Management scopes never travel into a member session: it exists to call tools. */
const MANAGEMENT_SCOPES: ReadonlySet<Scope> = new Set([
  'sessions:mint',
  'keys:write',
  'tools:write',
]);

/** Mints, revokes and lists revocations of member session tokens (`tng_mst_…`). */
@Injectable()
export class SessionsService implements OnModuleInit, OnModuleDestroy {
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly verifier: AssertionVerifier,
    private readonly apiKeys: ApiKeysService,
    private readonly signingKeys: SigningKeysService,
    private readonly registry: RegistryClient,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(
      () => void this.repository.purgeExpired().catch(() => undefined),
      60_000,
    );
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /**
   * Exchanges a member assertion (or, in development projects, a bare external id) presented with
   * a project API key for a 15-minute session token bound to that member.
   */
  async mint(input: {
    principal: Principal;
    member_assertion?: string | undefined;
    member_external_id?: string | undefined;
  }): Promise<MintedSession> {
    const { principal } = input;
    if (principal.kind !== 'api_key') throw invalidApiKey();
    if (!(await this.apiKeys.isActive(principal.keyId))) throw invalidApiKey();
    const assertion = input.member_assertion?.trim() ? input.member_assertion : undefined;
    const externalIdInput = input.member_external_id?.trim()
      ? input.member_external_id.trim()
      : undefined;
    if (!assertion && !externalIdInput) {
      throw new DomainError(
        'IDENTITY_MEMBER_INPUT_MISSING',
        'Provide member_assertion or member_external_id',
      );
    }
    const integration = await this.registry.findIntegration(
      principal.projectId,
      principal.integrationId,
    );
    if (!integration)
      throw new DomainError(
        'IDENTITY_KEY_MISSING_INTEGRATION',
        'API key missing project or integration',
      );

    let memberExternalId: string;
    if (assertion) {
      ({ memberExternalId } = await this.verifier.verify(principal.projectId, assertion));
    } else {
      const project = await this.registry.project(principal.projectId);
      if (project.environment !== 'development') {
        throw new DomainError(
          'IDENTITY_EXTERNAL_ID_DISABLED',
          'member_external_id mode disabled in production',
        );
      }
      memberExternalId = externalIdInput as string;
    }

    const memberId = await this.repository.upsertMember(principal.projectId, memberExternalId);
    const { kid, privateKey } = await this.signingKeys.signer();
    const scopes = principal.scopes.filter((scope) => !MANAGEMENT_SCOPES.has(scope));
    const { token, sessionId, expiresAt } = await signSessionToken(
      {
        projectId: principal.projectId,
        integrationId: principal.integrationId,
        memberId,
        memberExternalId,
        scopes,
        apiKeyId: principal.keyId,
      },
      privateKey,
      kid,
    );
    await this.repository.recordSession({
      id: sessionId,
      projectId: principal.projectId,
      apiKeyId: principal.keyId,
      memberId,
      expiresAt: new Date(expiresAt * 1000),
    });
    return {
      session_token: token,
      token_type: 'Bearer',
      expires_in: SESSION_TOKEN_TTL_SECONDS,
      expires_at: new Date(expiresAt * 1000).toISOString(),
      session_id: sessionId,
      member_id: memberId,
      member_external_id: memberExternalId,
    };
  }

  /** Revokes one session token; every gateway refuses it within moments. */
  async revoke(projectId: string, sessionId: string): Promise<void> {
    if (!(await this.repository.revokeSession(projectId, sessionId))) {
      throw new DomainError('IDENTITY_SESSION_NOT_FOUND', 'Session not found');
    }
    this.bus.publish(Subjects.identity.credentialRevoked, {
      kind: 'session',
      projectId,
      sessionId,
      revokedAt: new Date().toISOString(),
    });
  }

  /** What a gateway must refuse even though the token's signature is fine. */
  async recentRevocations(): Promise<{ apiKeyIds: string[]; sessionIds: string[] }> {
    const [apiKeyIds, sessionIds] = await Promise.all([
      this.apiKeys.revokedSince(SESSION_TOKEN_TTL_SECONDS + 60),
      this.repository.revokedUnexpiredSessions(),
    ]);
    return { apiKeyIds, sessionIds };
  }

  isRevoked(sessionId: string): Promise<boolean> {
    return this.repository.isSessionRevoked(sessionId);
  }
}
