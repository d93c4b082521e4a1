import { RepositoryAction } from '@wharf/db';

export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['read', 'write', 'delete', 'manage'];

/** Docker token scope actions and the permission each needs. */
const REGISTRY_ACTIONS: Record<string, RepositoryAction> = { pull: 'read', push: 'write', delete: 'delete' };

export function permissionForRegistryAction(action: string): RepositoryAction | undefined {
  return REGISTRY_ACTIONS[action];
}

export function registryActionsFor(granted: ReadonlySet<RepositoryAction>): string[] {
  return Object.entries(REGISTRY_ACTIONS)
    .filter(([, needed]) => granted.has(needed))
    .map(([action]) => action);
}

/** `docker-*` matches `docker-local`; `*` matches everything; anything else matches itself. */
export function matchesRepositoryPattern(pattern: string, key: string): boolean {
  if (!pattern.includes('*')) return pattern === key;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(key);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
