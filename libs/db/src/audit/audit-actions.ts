/**
 * Every action the audit log records. Dotted names group into families (`login`, `token`, ...)
 * that GET /api/audit?action= also accepts; the registry's own events are single words, as
 * Distribution's notifications name them.
 */
export const AUDIT_ACTIONS = [
  'login.succeeded',
  'login.failed',
  'login.rate_limited',
  'token.created',
  'token.revoked',
  'push',
  'delete',
  'promote',
  'quota.exceeded',
  'repository.created',
  'repository.updated',
  'repository.deleted',
  'repository.cache_purged',
  'repository.retention',
  'permission.saved',
  'permission.deleted',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.password_changed',
  'group.created',
  'group.updated',
  'group.deleted',
  'gc.run',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
