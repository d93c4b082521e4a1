import { Injectable } from '@nestjs/common';
import { Clock, RegistryTokenClaims } from '@wharf/auth';

const MAX_ENTRIES = 10_000;

/**
 * Registry JWTs already verified (ES256 signature, issuer, audience, lifetime), by their exact
 * bytes, until they expire. Verifying a signature costs more than serving a manifest, and
 * clients send the same token on every request for its whole lifetime. Only the signature
 * check is skipped on a hit: who the token speaks for and what they may do now are checked on
 * every request (RequestAuthenticator, RegistryAuthorizer).
 */
@Injectable()
export class VerifiedJwts {
  private readonly entries = new Map<string, RegistryTokenClaims>();

  constructor(private readonly clock: Clock) {}

  get(token: string): RegistryTokenClaims | undefined {
    const claims = this.entries.get(token);
    if (claims && claims.exp * 1000 <= this.clock.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  remember(token: string, claims: RegistryTokenClaims): void {
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, claims);
  }
}
