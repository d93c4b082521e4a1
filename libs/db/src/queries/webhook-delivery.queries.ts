import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { NewAuditRow } from './audit.queries';
import { countRows, returnedRows } from './count-rows';

/** An audit row a webhook may want: what the dispatcher turns into deliveries. */
export type PendingEventRow = Omit<NewAuditRow, 'tokenId' | 'webhookPending'> & { id: string; at: Date };

export interface NewDelivery {
  webhookId: string;
  event: string;
  eventId: string;
  auditId: string | null;
  payload: unknown;
}

/** A delivery claimed for an attempt, with what sending it takes. */
export interface DueDelivery {
  id: string;
  webhookId: string;
  webhookName: string;
  url: string;
  secretSealed: string;
  event: string;
  payload: unknown;
  /** Counting this one. */
  attempts: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  event: string;
  eventId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  retryUntil: Date;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  payload: unknown;
}

const DELIVERY_COLUMNS = `id::text AS id, event, event_id AS "eventId", status, attempts,
  CASE WHEN status = 'pending' THEN next_attempt_at END AS "nextAttemptAt", retry_until AS "retryUntil",
  last_status AS "lastStatus", last_error AS "lastError", last_attempt_at AS "lastAttemptAt", delivered_at AS "deliveredAt",
  created_at AS "createdAt", payload`;

/**
 * The webhook outbox and its deliveries. Every host's dispatcher uses these at once: rows are
 * claimed with FOR UPDATE SKIP LOCKED, and a delivery being attempted is leased (its
 * next_attempt_at pushed past the attempt's timeout), so a host that dies mid-attempt leaves it
 * to another once the lease runs out.
 */
@Injectable()
export class WebhookDeliveryQueries {
  constructor(private readonly db: Db) {}

  /** Inside a transaction: pending audit rows, locked until it ends; rows another host holds are skipped. */
  claimPendingEvents(limit: number): Promise<PendingEventRow[]> {
    return this.db.query(
      `SELECT id::text AS id, at, action, username, address, request_id AS "requestId", request, repository, image, tag, digest, details
       FROM audit_events WHERE webhook_pending ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async clearPending(ids: string[]): Promise<void> {
    await this.db.query(`UPDATE audit_events SET webhook_pending = false WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /** New deliveries, due at once, retried until `retrySeconds` from now; those of a webhook deleted meanwhile are dropped. */
  async insert(deliveries: NewDelivery[], retrySeconds: number): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, event, event_id, audit_id, payload, retry_until)
       SELECT d.webhook_id, d.event, d.event_id, d.audit_id, d.payload, now() + make_interval(secs => $2)
       FROM jsonb_to_recordset($1::jsonb) AS d(webhook_id uuid, event text, event_id uuid, audit_id bigint, payload jsonb)
       JOIN webhooks w ON w.id = d.webhook_id`,
      [JSON.stringify(deliveries.map((d) => ({ webhook_id: d.webhookId, event: d.event, event_id: d.eventId, audit_id: d.auditId, payload: d.payload }))), retrySeconds],
    );
  }

  /**
   * Claims up to `limit` due deliveries for an attempt each: counts the attempt and leases the
   * row for `leaseSeconds` (longer than an attempt can take), in one statement.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<DueDelivery[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query(
      `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + make_interval(secs => $2)
       FROM webhooks w
       WHERE w.id = d.webhook_id AND d.id IN (
         SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING d.id::text AS id, d.webhook_id AS "webhookId", w.name AS "webhookName", w.url, w.secret_sealed AS "secretSealed",
         d.event, d.payload, d.attempts`,
      [limit, leaseSeconds],
    );
    return returnedRows<DueDelivery>(rows);
  }

  /** When the next delivery is due, if any is pending. */
  async nextDue(): Promise<Date | null> {
    const rows = await this.db.query(`SELECT min(next_attempt_at) AS due FROM webhook_deliveries WHERE status = 'pending'`);
    return rows[0]?.due ?? null;
  }

  async delivered(id: string, httpStatus: number): Promise<void> {
    await this.db.query(`UPDATE webhook_deliveries SET status = 'delivered', last_status = $2, last_error = NULL, delivered_at = now() WHERE id = $1 AND status = 'pending'`, [
      id,
      httpStatus,
    ]);
  }

  /** A failed attempt: tried again in `backoffSeconds`, or given up once past retry_until. */
  async attemptFailed(id: string, httpStatus: number | null, error: string, backoffSeconds: number): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET last_status = $2, last_error = $3,
         status = CASE WHEN now() + make_interval(secs => $4) > retry_until THEN 'failed' ELSE 'pending' END,
         next_attempt_at = now() + make_interval(secs => $4)
       WHERE id = $1 AND status = 'pending'`,
      [id, httpStatus, error, backoffSeconds],
    );
  }

  /** Attempts cut short by a shutdown: due again at once, the attempt not counted. */
  async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0) WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [ids]);
  }

  /** A webhook's deliveries, newest first. */
  list(webhookId: string, filter: { status?: DeliveryStatus; before?: string; limit: number }): Promise<DeliveryRow[]> {
    const params: unknown[] = [webhookId, filter.limit];
    let where = 'webhook_id = $1';
    if (filter.status) {
      params.push(filter.status);
      where += ` AND status = $${params.length}`;
    }
    if (filter.before) {
      params.push(filter.before);
      where += ` AND id < $${params.length}::bigint`;
    }
    return this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${where} ORDER BY webhook_deliveries.id DESC LIMIT $2`, params);
  }

  async find(webhookId: string, id: string): Promise<DeliveryRow | null> {
    const rows = await this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2::bigint`, [webhookId, id]);
    return rows[0] ?? null;
  }

  /** Sends a delivery again (whatever its status): due now, its attempts and retry window started afresh. */
  async redeliver(webhookId: string, id: string, retrySeconds: number): Promise<DeliveryRow | null> {
    const rows = await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), retry_until = now() + make_interval(secs => $3),
         delivered_at = NULL
       WHERE webhook_id = $1 AND id = $2::bigint RETURNING ${DELIVERY_COLUMNS}`,
      [webhookId, id, retrySeconds],
    );
    return returnedRows<DeliveryRow>(rows)[0] ?? null;
  }

  /** Deletes up to `batch` delivered or failed deliveries older than `days`; how many went. */
  async deleteFinishedOlderThan(days: number, batch: number): Promise<number> {
    return countRows(
      await this.db.query(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [days, batch],
      ),
    );
  }
}
