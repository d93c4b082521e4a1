import { Injectable } from '@nestjs/common';
import { Request, Response } from 'express';
import { CredentialVerifier, LoginAudit, Principal, RegistryTokenService, TokenIssuer, isAnonymous, parseScopes } from '@wharf/auth';
import { RegistryError } from '@wharf/oci';
import { RequestAuthenticator } from '../auth/request-authenticator';

/** The token protocol's answers; HTTP only, the decisions are TokenIssuer's. */
@Injectable()
export class TokenEndpoint {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly credentials: CredentialVerifier,
    private readonly issuer: TokenIssuer,
    private readonly tokens: RegistryTokenService,
    private readonly logins: LoginAudit,
  ) {}

  async get(req: Request, res: Response): Promise<void> {
    // A registry JWT is no credential for getting another one.
    if (req.headers.authorization?.toLowerCase().startsWith('bearer ') && !req.headers.authorization.slice(7).startsWith('wharf_')) {
      throw new RegistryError('UNAUTHORIZED', 'use Basic credentials or an access token to obtain a token');
    }
    const { principal } = await this.authenticator.authenticate(req, res);
    // docker login (and each docker push or pull) asks here with its credentials: a login in the audit log.
    if (!isAnonymous(principal)) await this.logins.succeeded(principal, 'token');
    await this.answer(res, principal, parseScopes(queryAll(req, 'scope')), query(req, 'offline_token') === 'true');
  }

  async post(req: Request, res: Response): Promise<void> {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    const scopes = parseScopes(form.scope ? [form.scope] : []);
    const principal = await this.grantPrincipal(req, form);
    req.principal = principal; // for the access log
    await this.answer(res, principal, scopes, form.access_type === 'offline' || form.grant_type === 'refresh_token');
  }

  private async grantPrincipal(req: Request, form: Record<string, string | undefined>): Promise<Principal> {
    switch (form.grant_type) {
      case 'password': {
        if (!form.username || form.password === undefined) throw new RegistryError('UNAUTHORIZED', 'grant_type=password needs username and password');
        const principal = await this.credentials.verifyLogin(form.username, form.password, req.ip ?? 'unknown');
        await this.logins.succeeded(principal, 'token');
        return principal;
      }
      case 'refresh_token': {
        let claims;
        try {
          claims = this.tokens.verify(form.refresh_token ?? '', 'refresh');
        } catch (err) {
          throw new RegistryError('UNAUTHORIZED', `invalid refresh token: ${(err as Error).message}`);
        }
        const principal = await this.credentials.principalForToken(claims.sub, claims.tid);
        if (!principal) throw new RegistryError('UNAUTHORIZED', "the refresh token's user or access token is no longer valid");
        return principal;
      }
      default:
        throw new RegistryError('UNSUPPORTED', `unsupported grant_type "${String(form.grant_type).slice(0, 40)}": use password or refresh_token`);
    }
  }

  private async answer(res: Response, principal: Principal, scopes: ReturnType<typeof parseScopes>, withRefresh: boolean): Promise<void> {
    const issued = await this.issuer.issue(principal, scopes);
    // Anonymous callers have nothing to refresh.
    const refresh = withRefresh && !isAnonymous(principal) ? this.tokens.issueRefresh(principal).token : undefined;
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .json({
        token: issued.token,
        access_token: issued.token,
        expires_in: issued.expiresIn,
        issued_at: issued.issuedAt,
        ...(refresh ? { refresh_token: refresh } : {}),
      });
  }
}

function query(req: Request, key: string): string | undefined {
  const value = req.query[key];
  return typeof value === 'string' ? value : undefined;
}

function queryAll(req: Request, key: string): string[] {
  const value = req.query[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');
}
