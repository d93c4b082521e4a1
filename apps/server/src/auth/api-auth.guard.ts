import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request, Response } from 'express';
import { RegistryError } from '@wharf/oci';
import { IS_PUBLIC } from './public.decorator';
import { RequestAuthenticator } from './request-authenticator';

/**
 * Authenticates every REST request (registry routes never get here: RegistryLane serves them) and
 * puts the Principal on the request; services decide what it may do. Credentials that are
 * sent must be valid: bad ones are 401, never quietly anonymous.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    // Bad credentials are a 401, never quietly anonymous; the exception filter adds the challenge.
    const auth = await this.authenticator.authenticate(req, context.switchToHttp().getResponse<Response>());
    // A registry JWT grants registry actions only; accepted here it would stand for its whole user.
    if (auth.tokenAccess) throw new RegistryError('UNAUTHORIZED', 'registry bearer tokens are valid on /v2 routes only: use Basic credentials or an access token');
    req.principal = auth.principal;
    return true;
  }
}
