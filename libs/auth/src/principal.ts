import { RepositoryAction } from '@wharf/db';

/** Limits of an access token: it can never do more than its owner, and no more than this. */
export interface TokenScope {
  tokenId: string;
  /** Repository keys or `*` patterns. */
  repositories: string[];
  actions: RepositoryAction[];
}

/** Who is making a request. `username` undefined means anonymous. */
export interface Principal {
  userId?: string;
  username?: string;
  admin: boolean;
  groups: string[];
  tokenScope?: TokenScope;
}

export const ANONYMOUS: Principal = Object.freeze({ admin: false, groups: [] }) as Principal;

export function isAnonymous(principal: Principal): boolean {
  return principal.username === undefined;
}

/**
 * Whether the principal may administer Wharf (users, groups, permissions, repositories).
 * An admin's access token is limited to its repository scope and never administers.
 */
export function canAdminister(principal: Principal): boolean {
  return principal.admin && !principal.tokenScope;
}
