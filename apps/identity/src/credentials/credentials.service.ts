import { Injectable } from '@nestjs/common';

import { credentialKind, SessionTokenError, verifySessionToken } from '@tengine/auth';
import { DomainError, type Principal } from '@tengine/contracts';

import { AdminTokensService } from '../admin-tokens/admin-tokens.service.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';

function invalidCredential(): DomainError {
  return new DomainError('IDENTITY_INVALID_CREDENTIAL', 'Invalid or inactive credential');
}

/** Turns any presented credential into the principal it stands for, or the reference's 401. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly adminTokens: AdminTokensService,
    private readonly sessions: SessionsService,
    private readonly signingKeys: SigningKeysService,
  ) {}

  async verify(credential: string): Promise<Principal> {
    switch (credentialKind(credential)) {
      case 'api_key':
        return this.apiKeys.verify(credential);
      case 'admin': {
        const keyId = await this.adminTokens.verify(credential);
        if (!keyId) throw invalidCredential();
        return { kind: 'admin', keyId };
      }
      case 'member_session':
        return this.verifySession(credential);
    }
  }

  private async verifySession(token: string): Promise<Principal> {
    let principal;
    try {
      principal = await verifySessionToken(token, async (header) => {
        const key = header.kid ? await this.signingKeys.publicKey(header.kid) : undefined;
        if (!key) throw new SessionTokenError('invalid');
        return key;
      });
    } catch (error) {
      if (error instanceof SessionTokenError && error.reason === 'expired') {
        throw new DomainError('IDENTITY_SESSION_EXPIRED', 'Member JWT has expired');
      }
      throw invalidCredential();
    }
    const [keyActive, revoked] = await Promise.all([
      this.apiKeys.isActive(principal.keyId),
      this.sessions.isRevoked(principal.sessionId),
    ]);
    if (!keyActive || revoked) throw invalidCredential();
    return principal;
  }
}
