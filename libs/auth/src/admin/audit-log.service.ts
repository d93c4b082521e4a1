import { BadRequestException, Injectable } from '@nestjs/common';
import { AUDIT_ACTIONS, AuditQueries, AuditRow } from '@wharf/db';
import { Principal } from '../principal';
import { requireAdmin } from './admin-access';

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

/** Actions and their families (`login` for `login.*`): what ?action= may name. */
const NAMEABLE = new Set<string>([...AUDIT_ACTIONS, ...AUDIT_ACTIONS.map((action) => action.split('.')[0])]);

export interface AuditQuery {
  since?: string;
  until?: string;
  user?: string;
  repository?: string;
  /** Comma-separated actions or families. */
  action?: string;
  /** The `next` of the previous page. */
  before?: string;
  limit?: number;
}

export interface AuditEventView {
  id: string;
  at: string;
  action: string;
  user: string | null;
  tokenId: string | null;
  address: string | null;
  requestId: string | null;
  repository: string | null;
  image: string | null;
  tag: string | null;
  digest: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  events: AuditEventView[];
  /** Pass as `before` for the next (older) page; null on the last one. */
  next: string | null;
}

/** The audit log, newest first, for admins. */
@Injectable()
export class AuditLogService {
  constructor(private readonly queries: AuditQueries) {}

  async list(principal: Principal, query: AuditQuery): Promise<AuditPage> {
    requireAdmin(principal, 'read the audit log');
    const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
    const rows = await this.queries.list({
      since: date(query.since, 'since'),
      until: date(query.until, 'until'),
      username: query.user,
      repository: query.repository,
      actions: actions(query.action),
      before: query.before,
      // One more than asked tells whether there is a next page.
      limit: limit + 1,
    });
    const events = rows.slice(0, limit).map(view);
    return { events, next: rows.length > limit ? events[events.length - 1].id : null };
  }
}

function date(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new BadRequestException(`${field} must be a date and time (ISO 8601), got "${value.slice(0, 64)}"`);
  return parsed;
}

function actions(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const named = value
    .split(',')
    .map((action) => action.trim())
    .filter(Boolean);
  const unknown = named.filter((action) => !NAMEABLE.has(action));
  if (unknown.length) throw new BadRequestException(`action: unknown ${unknown.map((a) => `"${a.slice(0, 64)}"`).join(', ')}; actions are ${[...NAMEABLE].join(', ')}`);
  return named.length ? named : undefined;
}

function view(row: AuditRow): AuditEventView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    action: row.action,
    user: row.username,
    tokenId: row.tokenId,
    address: row.address,
    requestId: row.requestId,
    repository: row.repository,
    image: row.image,
    tag: row.tag,
    digest: row.digest,
    details: row.details,
  };
}
