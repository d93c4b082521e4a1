import { PermissionPrincipals, RepositoryAction } from '@wharf/db';
import { Principal, isAnonymous } from './principal';
import { REPOSITORY_ACTIONS, matchesRepositoryPattern } from './repository-actions';

export interface PermissionRule {
  repositories: string[];
  principals: PermissionPrincipals;
}

export interface RepositoryAccessFacts {
  key: string;
  anonymousRead: boolean;
}

/**
 * What a principal may do to one repository: admins everything; anyone `read` where anonymous
 * read is on; otherwise the union of the rules naming the user or one of its groups. An access
 * token then narrows that to its own scope: it never adds anything.
 */
export function grantedActions(principal: Principal, repo: RepositoryAccessFacts, rules: PermissionRule[]): Set<RepositoryAction> {
  const granted = new Set<RepositoryAction>();
  if (principal.admin) REPOSITORY_ACTIONS.forEach((a) => granted.add(a));
  if (repo.anonymousRead) granted.add('read');
  if (!isAnonymous(principal)) {
    for (const rule of rules) {
      if (!rule.repositories.some((pattern) => matchesRepositoryPattern(pattern, repo.key))) continue;
      (rule.principals.users?.[principal.username!] ?? []).forEach((a) => granted.add(a));
      for (const group of principal.groups) (rule.principals.groups?.[group] ?? []).forEach((a) => granted.add(a));
    }
  }
  // `write` (deploy) and `delete` are useless without seeing the repository.
  if (granted.has('write') || granted.has('delete') || granted.has('manage')) granted.add('read');
  const scope = principal.tokenScope;
  if (!scope) return granted;
  if (!scope.repositories.some((pattern) => matchesRepositoryPattern(pattern, repo.key))) {
    return repo.anonymousRead ? new Set(['read']) : new Set();
  }
  return new Set([...granted].filter((a) => scope.actions.includes(a) || (a === 'read' && repo.anonymousRead)));
}
