import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { WharfConfig } from '@wharf/config';
import { Clock } from './clock';
import { Principal } from './principal';
import { SigningKeyService } from './signing-key.service';
import { ScopeEntry } from './token-scope';

export const TOKEN_ISSUER = 'wharf';
export const TOKEN_ALGORITHM = 'ES256';

/** The claims of the JWTs Wharf signs, in the shape of Docker's token specification. */
export interface RegistryTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: ScopeEntry[];
  /** `access` for bearer tokens, `refresh` for docker login's offline tokens. */
  typ: 'access' | 'refresh';
  /** The access token the login used, so revoking it ends its JWTs at once. */
  tid?: string;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

@Injectable()
export class RegistryTokenService {
  constructor(
    private readonly config: WharfConfig,
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
  ) {}

  issueAccess(principal: Principal, access: ScopeEntry[]): IssuedToken {
    return this.sign(principal, 'access', access, this.config.tokenTtlSeconds);
  }

  issueRefresh(principal: Principal): IssuedToken {
    return this.sign(principal, 'refresh', [], this.config.refreshTokenTtlSeconds);
  }

  /** Verifies signature, issuer, audience and lifetime; throws on any failure. */
  verify(token: string, typ: RegistryTokenClaims['typ']): RegistryTokenClaims {
    const claims = jwt.verify(token, this.keys.verificationKeyPem, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: this.config.authService,
      clockTimestamp: Math.floor(this.clock.now() / 1000),
    }) as RegistryTokenClaims;
    if (claims.typ !== typ) throw new Error(`expected a ${typ} token`);
    return claims;
  }

  private sign(principal: Principal, typ: RegistryTokenClaims['typ'], access: ScopeEntry[], ttl: number): IssuedToken {
    const now = Math.floor(this.clock.now() / 1000);
    const claims: RegistryTokenClaims = {
      iss: TOKEN_ISSUER,
      sub: principal.username ?? '',
      aud: this.config.authService,
      // A little slack for clocks a few seconds apart between instances.
      nbf: now - 10,
      iat: now,
      exp: now + ttl,
      jti: randomUUID(),
      access,
      typ,
      ...(principal.tokenScope ? { tid: principal.tokenScope.tokenId } : {}),
    };
    const token = jwt.sign(claims, this.keys.signingKey, { algorithm: TOKEN_ALGORITHM, keyid: this.keys.kid });
    return { token, expiresIn: ttl, issuedAt: new Date(now * 1000).toISOString() };
  }
}
