import { Controller } from '@nestjs/common';

import { Subjects, type RpcReply, type RpcRequest } from '@tengine/contracts';
import { RpcHandler, RpcPayload } from '@tengine/messaging';

import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { SessionsService } from './sessions.service.js';

@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly signingKeys: SigningKeysService,
  ) {}

  @RpcHandler(Subjects.identity.sessionMint)
  mint(
    @RpcPayload(Subjects.identity.sessionMint)
    request: RpcRequest<typeof Subjects.identity.sessionMint>,
  ): Promise<RpcReply<typeof Subjects.identity.sessionMint>> {
    return this.sessions.mint(request);
  }

  @RpcHandler(Subjects.identity.sessionRevoke)
  async revoke(
    @RpcPayload(Subjects.identity.sessionRevoke)
    request: RpcRequest<typeof Subjects.identity.sessionRevoke>,
  ): Promise<RpcReply<typeof Subjects.identity.sessionRevoke>> {
    await this.sessions.revoke(request.projectId, request.sessionId);
    return { revoked: true };
  }

  @RpcHandler(Subjects.identity.revocationListRecent)
  recent(
    @RpcPayload(Subjects.identity.revocationListRecent)
    _request: RpcRequest<typeof Subjects.identity.revocationListRecent>,
  ): Promise<RpcReply<typeof Subjects.identity.revocationListRecent>> {
    return this.sessions.recentRevocations();
  }

  @RpcHandler(Subjects.identity.jwksGet)
  jwks(
    @RpcPayload(Subjects.identity.jwksGet) _request: RpcRequest<typeof Subjects.identity.jwksGet>,
  ): Promise<RpcReply<typeof Subjects.identity.jwksGet>> {
    return this.signingKeys.jwks();
  }

  @RpcHandler(Subjects.identity.signingKeyRotate)
  rotate(
    @RpcPayload(Subjects.identity.signingKeyRotate)
    _request: RpcRequest<typeof Subjects.identity.signingKeyRotate>,
  ): Promise<RpcReply<typeof Subjects.identity.signingKeyRotate>> {
    return this.signingKeys.rotate();
  }
}
