import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { UiSessionQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { parseAccessTokenSecret } from './admin/access-token-secret';
import { CredentialVerifier } from './credential-verifier.service';
import { LoginAudit } from './login-audit';
import { Principal } from './principal';

export interface UiSession {
  id: string;
  principal: Principal;
  /** What the UI sends back as X-CSRF-Token on every change. */
  csrfToken: string;
  expiresAt: Date;
}

/**
 * Web UI sign-ins. The session's secret travels only in an httpOnly cookie (scripts cannot read
 * it) and is stored hashed; every change made with it must also carry the session's CSRF token
 * in a header, which another site can neither read nor send. The user is checked again on each
 * request, so disabling them ends their sessions at once.
 */
@Injectable()
export class UiSessionService {
  constructor(
    private readonly credentials: CredentialVerifier,
    private readonly sessions: UiSessionQueries,
    private readonly config: WharfConfig,
    private readonly logins: LoginAudit,
  ) {}

  /** Signs in with a password (rate limited like every login); the session and its cookie secret. */
  async open(username: string, password: string, clientAddress: string): Promise<UiSession & { secret: string }> {
    if (parseAccessTokenSecret(password)) {
      throw new RegistryError('UNAUTHORIZED', 'sign in with your password: access tokens are for clients and scripts');
    }
    const principal = await this.credentials.verifyLogin(username, password, clientAddress);
    const secret = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const { id, expiresAt } = await this.sessions.create(hashOf(secret), principal.userId!, csrfToken, this.config.sessionTtlSeconds);
    await this.logins.succeeded(principal, 'session');
    return { id, principal, csrfToken, expiresAt, secret };
  }

  /** The live session a cookie's secret belongs to, with its user re-checked; null when there is none. */
  async resolve(secret: string): Promise<UiSession | null> {
    const row = await this.sessions.find(hashOf(secret));
    if (!row) return null;
    const principal = await this.credentials.principalForToken(row.username);
    return principal && { id: row.id, principal, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  /** Whether `sent` is the session's CSRF token (compared in constant time). */
  csrfMatches(session: UiSession, sent: string | undefined): boolean {
    if (!sent) return false;
    const [a, b] = [Buffer.from(sent), Buffer.from(session.csrfToken)];
    return a.length === b.length && timingSafeEqual(a, b);
  }

  close(session: UiSession): Promise<void> {
    return this.sessions.delete(session.id);
  }
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
