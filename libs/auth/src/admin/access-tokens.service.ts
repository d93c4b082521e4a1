import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AccessTokenEntity, AccessTokenQueries, AuditTrail, RepositoryAction, UserQueries } from '@wharf/db';
import { Clock } from '../clock';
import { Principal, canAdminister } from '../principal';
import { formatAccessToken, generateAccessTokenSecret, hashSecret, isUuid } from './access-token-secret';
import { requireAccountSession, requireAdmin, requireUser } from './admin-access';
import { checkActions, checkRepositoryPatterns } from './scope-validation';

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;
export const MAX_TOKEN_LIFETIME_SECONDS = 365 * 24 * 3600;
export const TOKEN_NAME_MAX_LENGTH = 128;

export interface AccessTokenRequest {
  name: string;
  /** 0 or absent: the default lifetime. There is no "never": every token expires. */
  expiresInSeconds?: number;
  repositories: string[];
  actions: string[];
}

/** The answer to a creation: the only time `token` (the secret) is ever shown. */
export interface CreatedAccessToken {
  id: string;
  name: string;
  token: string;
  /** The lifetime granted: what was asked, or the default (30 days) when 0 or nothing was. */
  expiresInSeconds: number;
  expiresAt: string;
  repositories: string[];
  actions: RepositoryAction[];
}

/** A token as listings show it: no secret, no hash. */
export interface AccessTokenView {
  id: string;
  name: string;
  user: string;
  repositories: string[];
  actions: RepositoryAction[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revoked: boolean;
  expired: boolean;
}

/**
 * Access tokens for CI and scripts. Anyone logged in with a password makes tokens for
 * themselves (a token cannot mint tokens); a token never does more than its owner may. Owners
 * and admins revoke; the authenticator reads the row on every use, so revocation is immediate.
 */
@Injectable()
export class AccessTokensService {
  constructor(
    private readonly tokens: AccessTokenQueries,
    private readonly users: UserQueries,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
  ) {}

  async create(principal: Principal, request: AccessTokenRequest): Promise<CreatedAccessToken> {
    const caller = requireAccountSession(principal, 'create access tokens');
    const name = checkName(request.name);
    const lifetime = checkLifetime(request.expiresInSeconds);
    const repositories = checkRepositoryPatterns(request.repositories, 'repositories');
    const actions = checkActions(request.actions, 'actions');
    if (!actions.length) throw new BadRequestException('actions must name at least one of read, write, delete, manage');
    const secret = generateAccessTokenSecret();
    const expiresAt = new Date(this.clock.now() + lifetime * 1000);
    const row = await this.audit.recorded(
      () => this.tokens.create({ name, userId: caller.userId, secretHash: hashSecret(secret), repositories, actions, expiresAt }),
      (row) => ({ action: 'token.created', details: { id: row.id, name, owner: caller.username, repositories, actions, expiresAt: expiresAt.toISOString() } }),
    );
    return { id: row.id, name, token: formatAccessToken(row.id, secret), expiresInSeconds: lifetime, expiresAt: expiresAt.toISOString(), repositories, actions };
  }

  /** The caller's tokens; an admin sees everyone's, or one user's with `username`. */
  async list(principal: Principal, username?: string): Promise<AccessTokenView[]> {
    const caller = requireUser(principal, 'list access tokens');
    if (username === undefined || username === caller.username) {
      if (username === undefined && canAdminister(caller)) return this.views(await this.tokens.list());
      return (await this.tokens.list(caller.userId)).map((token) => this.view(token, caller.username));
    }
    requireAdmin(caller, "list other users' access tokens");
    const user = await this.users.findByUsername(username);
    if (!user) throw new NotFoundException(`user ${username} not found`);
    return (await this.tokens.list(user.id)).map((token) => this.view(token, user.username));
  }

  /** Revokes a token of the caller's (any token, for an admin). Revoking twice is fine. */
  async revoke(principal: Principal, id: string): Promise<void> {
    const caller = requireUser(principal, 'revoke access tokens');
    // Someone else's token is "not found" too: ids are not something to probe for.
    const token = isUuid(id) ? await this.tokens.findById(id.toLowerCase()) : null;
    if (!token || (token.userId !== caller.userId && !canAdminister(caller))) throw new NotFoundException(`access token ${id.slice(0, 64)} not found`);
    const owner = token.userId === caller.userId ? caller.username : (await this.users.findById(token.userId))?.username;
    await this.audit.recorded(
      () => this.tokens.revoke(token.id),
      (revoked) => (revoked ? { action: 'token.revoked', details: { id: token.id, name: token.name, owner } } : undefined),
    );
  }

  private async views(tokens: AccessTokenEntity[]): Promise<AccessTokenView[]> {
    const names = new Map((await this.users.list()).map((user) => [user.id, user.username]));
    return tokens.map((token) => this.view(token, names.get(token.userId) ?? ''));
  }

  private view(token: AccessTokenEntity, username: string): AccessTokenView {
    return {
      id: token.id,
      name: token.name,
      user: username,
      repositories: token.repositories,
      actions: token.actions,
      createdAt: token.createdAt.toISOString(),
      expiresAt: token.expiresAt?.toISOString() ?? null,
      revokedAt: token.revokedAt?.toISOString() ?? null,
      revoked: token.revokedAt !== null,
      expired: token.expiresAt !== null && token.expiresAt.getTime() <= this.clock.now(),
    };
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > TOKEN_NAME_MAX_LENGTH || /[\x00-\x1f\x7f]/.test(name)) {
    throw new BadRequestException(`name must be 1 to ${TOKEN_NAME_MAX_LENGTH} printable characters`);
  }
  return name;
}

function checkLifetime(seconds: number | undefined): number {
  if (seconds === undefined || seconds === null || seconds === 0) return DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new BadRequestException(
      `expiresInSeconds must be a whole number from 1 to ${MAX_TOKEN_LIFETIME_SECONDS} (one year), or 0 for the default (${DEFAULT_TOKEN_LIFETIME_SECONDS}, 30 days)`,
    );
  }
  return seconds;
}
