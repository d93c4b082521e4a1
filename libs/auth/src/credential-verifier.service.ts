import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AccessTokenEntity, AccessTokenQueries, UserEntity, UserQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { hashSecret, parseAccessTokenSecret } from './admin/access-token-secret';
import { Clock } from './clock';
import { LoginAudit } from './login-audit';
import { LoginRateLimiter } from './login-rate-limiter';
import { PasswordHasher } from './password-hasher';
import { Principal } from './principal';

const VERIFIED_PASSWORD_CACHE_LIMIT = 10_000;

/**
 * Turns credentials into a Principal: a user name with a password or with an access token
 * (docker login -p <token>), or an access token alone (Bearer on the REST API). Failures are
 * rate limited per user name and per client address.
 */
@Injectable()
export class CredentialVerifier {
  /**
   * sha256(user, password) -> the password hash it was verified against. argon2 costs ~100 ms,
   * and clients that send Basic on every request would pay it each time; a hit still reads the
   * user, so a changed password or a disabled user takes effect at once.
   */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly users: UserQueries,
    private readonly tokens: AccessTokenQueries,
    private readonly hasher: PasswordHasher,
    private readonly limiter: LoginRateLimiter,
    private readonly clock: Clock,
    private readonly logins: LoginAudit,
  ) {}

  /** Failures and refusals are recorded in the audit log. */
  verifyLogin(username: string, secret: string, clientAddress: string): Promise<Principal> {
    const method = parseAccessTokenSecret(secret) ? 'access token' : 'password';
    return this.logins.watch(username, method, () => this.checkLogin(username, secret, clientAddress));
  }

  private async checkLogin(username: string, secret: string, clientAddress: string): Promise<Principal> {
    const principal = await this.limiter.attempt(username, clientAddress, () =>
      parseAccessTokenSecret(secret) ? this.verifyAccessToken(secret, username) : this.verifyPassword(username, secret),
    );
    if (!principal) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
    return principal;
  }

  /** An access token on its own (Bearer on the REST API); failures are recorded in the audit log, naming the token's id. */
  verifyBearerAccessToken(token: string, clientAddress: string): Promise<Principal> {
    const tokenId = parseAccessTokenSecret(token)?.tokenId;
    return this.logins.watch(undefined, 'access token', () => this.checkBearerAccessToken(token, clientAddress), tokenId ? { tokenId } : {});
  }

  private async checkBearerAccessToken(token: string, clientAddress: string): Promise<Principal> {
    const principal = await this.limiter.attempt(undefined, clientAddress, () => this.verifyAccessToken(token));
    if (!principal) throw new RegistryError('UNAUTHORIZED', 'invalid, expired or revoked access token');
    return principal;
  }

  /** The principal a JWT speaks for, re-checked: the user still enabled, its access token still live. */
  async principalForToken(username: string, tokenId?: string): Promise<Principal | null> {
    if (tokenId) {
      const token = await this.tokens.findById(tokenId);
      if (!token || !this.isLive(token)) return null;
      const user = await this.users.findById(token.userId);
      if (!user || user.disabled || user.username !== username) return null;
      return this.principalOf(user, token);
    }
    const user = await this.users.findByUsername(username);
    return user && !user.disabled ? this.principalOf(user) : null;
  }

  private async verifyPassword(username: string, password: string): Promise<Principal | null> {
    const user = await this.users.findByUsername(username);
    if (!user || user.disabled) {
      // Same cost whether or not the user exists, so timing tells nothing.
      await this.hasher.verify(DUMMY_HASH, password);
      return null;
    }
    const cacheKey = createHash('sha256').update(`${username}\0${password}`).digest('hex');
    if (this.verified.get(cacheKey) !== user.passwordHash) {
      if (!(await this.hasher.verify(user.passwordHash, password))) return null;
      if (this.verified.size >= VERIFIED_PASSWORD_CACHE_LIMIT) this.verified.clear();
      this.verified.set(cacheKey, user.passwordHash);
    }
    return this.principalOf(user);
  }

  private async verifyAccessToken(secretToken: string, expectedUsername?: string): Promise<Principal | null> {
    const parsed = parseAccessTokenSecret(secretToken);
    if (!parsed) return null;
    const token = await this.tokens.findById(parsed.tokenId);
    if (!token || !this.isLive(token)) return null;
    const expected = Buffer.from(token.secretHash, 'hex');
    const actual = Buffer.from(hashSecret(parsed.secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    const user = await this.users.findById(token.userId);
    if (!user || user.disabled) return null;
    if (expectedUsername !== undefined && expectedUsername !== user.username) return null;
    return this.principalOf(user, token);
  }

  private isLive(token: AccessTokenEntity): boolean {
    return !token.revokedAt && (!token.expiresAt || token.expiresAt.getTime() > this.clock.now());
  }

  private async principalOf(user: UserEntity, token?: AccessTokenEntity): Promise<Principal> {
    return {
      userId: user.id,
      username: user.username,
      admin: user.admin,
      groups: await this.users.groupNames(user.id),
      ...(token ? { tokenScope: { tokenId: token.id, repositories: token.repositories, actions: token.actions } } : {}),
    };
  }
}

/** A valid argon2id hash of a random string, to spend the same time on unknown users. */
const DUMMY_HASH = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$T6nPGdAd3xbDNsnBDwZMk7aQvO3mLRqCBa5r/G2TJBk';
