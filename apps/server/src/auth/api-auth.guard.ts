import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request, Response } from 'express';
import { UiSessionService } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { RegistryError } from '@wharf/oci';
import { clearSessionCookie, isSecure, sessionSecretOf } from '../session/session-cookie';
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
    private readonly sessions: UiSessionService,
    private readonly config: WharfConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const secret = req.headers.authorization ? undefined : sessionSecretOf(req);
    if (secret) return this.withSession(req, context.switchToHttp().getResponse<Response>(), secret);
    // Bad credentials are a 401, never quietly anonymous; the exception filter adds the challenge.
    const auth = await this.authenticator.authenticate(req, context.switchToHttp().getResponse<Response>());
    // A registry JWT grants registry actions only; accepted here it would stand for its whole user.
    if (auth.tokenAccess) throw new RegistryError('UNAUTHORIZED', 'registry bearer tokens are valid on /v2 routes only: use Basic credentials or an access token');
    req.principal = auth.principal;
    return true;
  }

  /**
   * The web UI's session cookie. A change (anything but GET and HEAD) must carry the session's
   * CSRF token: SameSite=Strict already keeps other sites' pages from sending the cookie, the
   * token also stops a request forged from a page of this origin that is not the UI.
   */
  private async withSession(req: Request, res: Response, secret: string): Promise<boolean> {
    const session = await this.sessions.resolve(secret);
    if (!session) {
      clearSessionCookie(res, isSecure(req, this.config.publicUrl));
      throw new RegistryError('UNAUTHORIZED', 'your session has ended: sign in again');
    }
    if (!SAFE_METHODS.has(req.method) && !this.sessions.csrfMatches(session, req.header('x-csrf-token'))) {
      throw new ForbiddenException('a change made with the session cookie needs the X-CSRF-Token header: the csrfToken of GET /api/session');
    }
    req.principal = session.principal;
    req.uiSession = session;
    return true;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
