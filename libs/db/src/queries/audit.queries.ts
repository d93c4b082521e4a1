import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { countRows } from './count-rows';

/** One row of audit_events as it is written. */
export interface NewAuditRow {
  action: string;
  username: string | null;
  tokenId: string | null;
  address: string | null;
  requestId: string | null;
  /** What the webhook envelope's `request` needs: method, host, user agent, the public origin. */
  request: Record<string, string> | null;
  repository: string | null;
  image: string | null;
  tag: string | null;
  digest: string | null;
  details: Record<string, unknown>;
  /** For the webhook dispatcher to fan out. */
  webhookPending: boolean;
}

export interface AuditRow extends Omit<NewAuditRow, 'request' | 'webhookPending'> {
  id: string;
  at: Date;
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  username?: string;
  repository?: string;
  /** Exact actions, or families: `login` matches `login.failed` and the other `login.*`. */
  actions?: string[];
  /** Only rows older than this id (the previous page's `next`). */
  before?: string;
  limit: number;
}

const COLUMNS = `id::text AS id, at, action, username, token_id AS "tokenId", address, request_id AS "requestId",
  repository, image, tag, digest, details`;

@Injectable()
export class AuditQueries {
  constructor(private readonly db: Db) {}

  /** Joins the transaction open in the caller's context: the row commits with the change it records. */
  async insert(row: NewAuditRow): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_events (action, username, token_id, address, request_id, request, repository, image, tag, digest, details, webhook_pending)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        row.action,
        row.username,
        row.tokenId,
        row.address,
        row.requestId,
        row.request === null ? null : JSON.stringify(row.request),
        row.repository,
        row.image,
        row.tag,
        row.digest,
        JSON.stringify(row.details),
        row.webhookPending,
      ],
    );
  }

  /** Newest first; `limit` rows at most. */
  list(filter: AuditFilter): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.since) where.push(`at >= ${param(filter.since)}`);
    if (filter.until) where.push(`at < ${param(filter.until)}`);
    if (filter.username !== undefined) where.push(`username = ${param(filter.username)}`);
    if (filter.repository !== undefined) where.push(`repository = ${param(filter.repository)}`);
    if (filter.actions?.length) {
      const actions = param(filter.actions);
      where.push(`(action = ANY(${actions}) OR split_part(action, '.', 1) = ANY(${actions}))`);
    }
    if (filter.before !== undefined) where.push(`id < ${param(filter.before)}::bigint`);
    return this.db.query(
      `SELECT ${COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_events.id DESC LIMIT ${param(filter.limit)}`,
      params,
    );
  }

  /** Deletes up to `batch` rows older than `days`; how many went. Hosts running it at once skip each other's rows. */
  async deleteOlderThan(days: number, batch: number): Promise<number> {
    return countRows(
      await this.db.query(
        `DELETE FROM audit_events WHERE id IN (
           SELECT id FROM audit_events WHERE at < now() - make_interval(days => $1) ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [days, batch],
      ),
    );
  }
}
