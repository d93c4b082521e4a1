import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { WharfConfig } from '@wharf/config';
import { RegistryTokenClaims, SigningKeyService, TOKEN_ALGORITHM, TOKEN_ISSUER } from '@wharf/auth';

export const REGISTRY_JWT = 'registry-jwt';

/** passport-jwt checks signature, issuer, audience and expiry of the bearer tokens Wharf signed. */
@Injectable()
export class RegistryJwtStrategy extends PassportStrategy(Strategy, REGISTRY_JWT) {
  constructor(keys: SigningKeyService, config: WharfConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // Read lazily: the key is loaded when the module initialises, after this constructor.
      secretOrKeyProvider: (_req: unknown, _token: unknown, done: (err: Error | null, key?: string) => void) => done(null, keys.verificationKeyPem),
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: config.authService,
      ignoreExpiration: false,
    });
  }

  validate(claims: RegistryTokenClaims): RegistryTokenClaims | false {
    return claims.typ === 'access' ? claims : false;
  }
}
