import { Injectable } from '@nestjs/common';
import { Request, Response } from 'express';
import passport from 'passport';
import { ANONYMOUS, CredentialVerifier, Principal, RegistryTokenClaims, ScopeEntry } from '@wharf/auth';
import { RegistryError } from '@wharf/oci';
import { REGISTRY_JWT } from './registry-jwt.strategy';
import { VerifiedJwts } from './verified-jwts';

export interface Authentication {
  principal: Principal;
  /** Set when a registry bearer token was used: the only access it carries. */
  tokenAccess?: ScopeEntry[];
}

const ACCESS_TOKEN_PREFIX = 'wharf_';

/**
 * Reads the Authorization header: none (anonymous), Basic (password or access token), or
 * Bearer (a registry JWT, checked by passport-jwt, or an access token). Bad credentials are
 * UNAUTHORIZED, never silently anonymous.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly credentials: CredentialVerifier,
    private readonly verifiedJwts: VerifiedJwts,
  ) {}

  /** Also puts the principal on the request, where the access log names it. */
  async authenticate(req: Request, res: Response): Promise<Authentication> {
    const auth = await this.establish(req, res);
    req.principal = auth.principal;
    return auth;
  }

  private async establish(req: Request, res: Response): Promise<Authentication> {
    const header = req.headers.authorization;
    if (!header) return { principal: ANONYMOUS };
    const [scheme, value = ''] = header.split(' ', 2);
    const clientAddress = req.ip ?? 'unknown';
    switch (scheme.toLowerCase()) {
      case 'basic': {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw new RegistryError('UNAUTHORIZED', 'malformed Basic credentials');
        return { principal: await this.credentials.verifyLogin(decoded.slice(0, colon), decoded.slice(colon + 1), clientAddress) };
      }
      case 'bearer':
        if (value.startsWith(ACCESS_TOKEN_PREFIX)) return { principal: await this.credentials.verifyBearerAccessToken(value, clientAddress) };
        return this.fromJwt(req, res, value);
      default:
        throw new RegistryError('UNAUTHORIZED', `unsupported authorization scheme "${scheme.slice(0, 20)}": use Basic or Bearer`);
    }
  }

  private async fromJwt(req: Request, res: Response, token: string): Promise<Authentication> {
    let claims = this.verifiedJwts.get(token);
    if (!claims) {
      claims = await this.verifyJwt(req, res);
      this.verifiedJwts.remember(token, claims);
    }
    if (claims.sub === '') return { principal: ANONYMOUS, tokenAccess: claims.access };
    const principal = await this.credentials.principalForToken(claims.sub, claims.tid);
    if (!principal) throw new RegistryError('UNAUTHORIZED', "the token's user or access token is no longer valid");
    return { principal, tokenAccess: claims.access };
  }

  private verifyJwt(req: Request, res: Response): Promise<RegistryTokenClaims> {
    return new Promise<RegistryTokenClaims>((resolve, reject) => {
      passport.authenticate(REGISTRY_JWT, { session: false }, (err: Error | null, user: RegistryTokenClaims | false, info?: Error) => {
        if (err) return reject(err);
        if (!user) return reject(new RegistryError('UNAUTHORIZED', describeFailure(info)));
        resolve(user);
      })(req, res, (err?: Error) => reject(err ?? new RegistryError('UNAUTHORIZED', 'invalid token')));
    });
  }
}

function describeFailure(info?: Error): string {
  if (info?.name === 'TokenExpiredError') return 'token expired: request a new one';
  return `invalid token${info?.message ? `: ${info.message}` : ''}`;
}
