import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Principal, canAdminister, isAnonymous } from '../principal';

/** A principal known to be a logged-in user. */
export type UserPrincipal = Principal & { userId: string; username: string };

/** The caller as a user; anonymous callers must log in first (401, with a challenge). */
export function requireUser(principal: Principal, why = 'log in first'): UserPrincipal {
  if (isAnonymous(principal) || !principal.userId) throw new UnauthorizedException(`authentication required: ${why}`);
  return principal as UserPrincipal;
}

/** Admins only; an admin's access token is scoped to repositories and does not count. */
export function requireAdmin(principal: Principal, what: string): UserPrincipal {
  const user = requireUser(principal, `${what} needs an administrator`);
  if (!canAdminister(user)) {
    throw new ForbiddenException(user.admin ? `${what} needs an administrator's password login, not an access token` : `only administrators may ${what}`);
  }
  return user;
}

/**
 * A password login (or a registry token from one), not an access token: a leaked CI token must
 * not be able to change the account or mint more tokens for itself.
 */
export function requireAccountSession(principal: Principal, what: string): UserPrincipal {
  const user = requireUser(principal, what);
  if (user.tokenScope) throw new ForbiddenException(`access tokens cannot ${what}: log in with your password`);
  return user;
}

export function isSelf(principal: Principal, username: string): boolean {
  return !isAnonymous(principal) && principal.username === username;
}
