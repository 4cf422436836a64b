import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';

import { Subjects, type Principal, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentPrincipal, CurrentProject } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

/** Member session tokens: minted by the customer's backend, used by AI runtimes as MCP bearers. */
@Controller()
export class SessionsController {
  constructor(private readonly forwarder: Forwarder) {}

  @Post('api/v1/mcp/session-token')
  @HttpCode(200)
  @Auth({ scope: 'sessions:mint', kinds: ['api_key'] })
  mint(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
  ): Promise<RpcReply<typeof Subjects.identity.sessionMint>> {
    const { member_assertion, member_external_id } = bodyObject(body);
    return this.forwarder.send(Subjects.identity.sessionMint, {
      principal,
      ...(member_assertion === undefined ? {} : { member_assertion }),
      ...(member_external_id === undefined ? {} : { member_external_id }),
    });
  }

  @Delete('api/v1/mcp/sessions/:sessionId')
  @Auth({ scope: 'keys:write' })
  revoke(
    @CurrentProject() projectId: string,
    @Param('sessionId') sessionId: string,
  ): Promise<RpcReply<typeof Subjects.identity.sessionRevoke>> {
    return this.forwarder.send(Subjects.identity.sessionRevoke, { projectId, sessionId });
  }

  /** Identity's public keys, so anyone can verify a session token offline. */
  @Get('.well-known/jwks.json')
  jwks(): Promise<RpcReply<typeof Subjects.identity.jwksGet>> {
    return this.forwarder.send(Subjects.identity.jwksGet, {});
  }
}
