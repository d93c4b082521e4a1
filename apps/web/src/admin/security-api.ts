import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../api/client';
import type { Group, Permission, User } from '../api/types';

// Users, groups and permissions show each other (a group's members, a user's groups, the grants
// naming them), so they share the ['security'] key and every change refreshes all three.
const SECURITY = 'security';

export const useUsers = () => useQuery({ queryKey: [SECURITY, 'users'], queryFn: () => get<User[]>('/api/security/users') });
export const useGroups = () => useQuery({ queryKey: [SECURITY, 'groups'], queryFn: () => get<Group[]>('/api/security/groups') });
export const usePermissions = () => useQuery({ queryKey: [SECURITY, 'permissions'], queryFn: () => get<Permission[]>('/api/security/permissions') });

export const securityPath = (kind: 'users' | 'groups' | 'permissions', name: string) => `/api/security/${kind}/${encodeURIComponent(name)}`;

/** A change to users, groups or permissions: on success, refreshes them, says `success` and calls `onSuccess`. */
export function useSecurityChange(mutationFn: () => Promise<unknown>, success: string, onSuccess?: () => void) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: [SECURITY] });
      notifications.show({ color: 'green', message: success });
      onSuccess?.();
    },
  });
}

// The server's rule for user, group and permission names (libs/auth/src/admin/security-name.ts).
const SECURITY_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

/** Why a new user, group or permission name would be refused, or null when it is fine (or still empty). */
export function securityNameError(name: string): string | null {
  if (name === '' || SECURITY_NAME.test(name)) return null;
  return '1 to 64 lowercase letters, digits, ".", "_", "@" and "-", starting with a letter or digit';
}
