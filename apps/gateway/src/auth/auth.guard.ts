import {
  createParamDecorator,
  Inject,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { credentialFromHeaders } from '@tengine/auth';
import { DomainError, type Principal, type Scope } from '@tengine/contracts';

import type { Authenticator } from './authenticator.js';

/** Injection token of the gateway's {@link Authenticator}. */
export const AUTHENTICATOR = Symbol('tengine.authenticator');

/** Who may call a route. Admin tokens pass every scope check; member sessions only where listed. */
export interface AuthRequirement {
  /** Only the platform admin token. */
  readonly admin?: boolean;
  /** A project credential must carry this scope. */
  readonly scope?: Scope;
  /** Principal kinds accepted (default: admin and api_key). */
  readonly kinds?: ReadonlyArray<Principal['kind']>;
}

const AUTH_REQUIREMENT = Symbol('tengine.auth-requirement');
const principals = new WeakMap<object, Principal>();

/** Marks a route as authenticated, with its requirement. Routes without it are public. */
export const Auth = (requirement: AuthRequirement = {}): MethodDecorator & ClassDecorator =>
  SetMetadata(AUTH_REQUIREMENT, requirement);

/** The authenticated principal of the request (set by {@link AuthGuard}). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = principals.get(context.switchToHttp().getRequest<FastifyRequest>());
    if (!principal) throw new Error('CurrentPrincipal used on a route without @Auth');
    return principal;
  },
);

const PROJECT_HEADER = 'x-project-id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The project a management call acts on: the credential's own project, or for the admin token the
 * project named in `X-Project-Id`. Never taken from the body.
 */
export const CurrentProject = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = principals.get(request);
    if (!principal) throw new Error('CurrentProject used on a route without @Auth');
    if (principal.kind !== 'admin') return principal.projectId;
    const header = request.headers[PROJECT_HEADER];
    if (typeof header !== 'string' || !UUID.test(header)) {
      throw new DomainError(
        'IDENTITY_PROJECT_REQUIRED',
        'X-Project-Id header (a project id) is required with the admin token',
      );
    }
    return header.toLowerCase();
  },
);

/** Authenticates every `@Auth` route and enforces its requirement. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_REQUIREMENT,
      [context.getHandler(), context.getClass()],
    );
    if (!requirement) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const credential = credentialFromHeaders(request.headers);
    if (credential === undefined) {
      throw new DomainError('IDENTITY_CREDENTIAL_MISSING', 'Missing credentials');
    }
    if (credential === null)
      throw new DomainError('IDENTITY_INVALID_CREDENTIAL', 'Invalid or inactive credential');
    const principal = await this.authenticator.authenticate(credential);
    authorize(principal, requirement);
    principals.set(request, principal);
    return true;
  }
}

/** Throws the 403 a principal gets for a route it may not call. */
export function authorize(principal: Principal, requirement: AuthRequirement): void {
  if (principal.kind === 'admin') {
    if (requirement.kinds && !requirement.kinds.includes('admin')) {
      throw new DomainError(
        'IDENTITY_SCOPE_MISSING',
        'This operation needs a project API key; the admin token cannot perform it',
      );
    }
    return;
  }
  if (requirement.admin) {
    throw new DomainError(
      'IDENTITY_ADMIN_REQUIRED',
      'This operation requires the platform admin token',
    );
  }
  const kinds = requirement.kinds ?? ['admin', 'api_key'];
  if (!kinds.includes(principal.kind)) {
    throw new DomainError(
      'IDENTITY_SCOPE_MISSING',
      principal.kind === 'member_session'
        ? 'Member session tokens can only call tools; use a project API key for this operation'
        : 'This operation requires a member session token',
    );
  }
  if (requirement.scope && !principal.scopes.includes(requirement.scope)) {
    throw new DomainError(
      'IDENTITY_SCOPE_MISSING',
      `API key is missing the required scope: ${requirement.scope}`,
      {
        details: { scope: requirement.scope },
      },
    );
  }
}
