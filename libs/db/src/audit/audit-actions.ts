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
  'webhook.saved',
  'webhook.deleted',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a webhook subscribes to: Distribution's push, pull and delete, and Wharf's own. */
export const WEBHOOK_EVENTS = ['push', 'pull', 'delete', 'promote', 'quota', 'gc'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/**
 * The webhook event each audited action is. Pulls have no audit row: they reach webhooks
 * another way (PullNotifier), only when one subscribes to them.
 */
export const WEBHOOK_EVENT_OF: Partial<Record<AuditAction, WebhookEvent>> = {
  push: 'push',
  delete: 'delete',
  promote: 'promote',
  'quota.exceeded': 'quota',
  'gc.run': 'gc',
};
