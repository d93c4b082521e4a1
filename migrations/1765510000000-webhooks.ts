import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks and their delivery log. The audit rows of events a webhook can subscribe to (push,
 * delete, promote, quota, gc) are written with `webhook_pending`: the outbox, committed with the
 * change. A dispatcher on every host claims pending rows (FOR UPDATE SKIP LOCKED), turns each into
 * a delivery per matching webhook and clears the flag in the same transaction; no "last id"
 * cursor, since ids commit out of order. Deliveries are retried with backoff until delivered or
 * given up; each keeps its status, attempts and last error, readable and re-triggerable.
 */
export class Webhooks1765510000000 implements MigrationInterface {
  name = 'Webhooks1765510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events ADD COLUMN webhook_pending boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX audit_events_webhook_pending_idx ON audit_events (id) WHERE webhook_pending`);
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(64) NOT NULL UNIQUE,
        url text NOT NULL,
        events text[] NOT NULL,
        repositories text[] NOT NULL,
        secret_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id bigserial PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event varchar(16) NOT NULL,
        event_id uuid NOT NULL,
        audit_id bigint,
        payload jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        retry_until timestamptz NOT NULL,
        last_status integer,
        last_error text,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The worker's question: which pending deliveries are due.
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    // A webhook's delivery log, newest first.
    await q.query(`CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id)`);
    // Retention of finished deliveries.
    await q.query(`CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
    await q.query(`DROP INDEX audit_events_webhook_pending_idx`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN webhook_pending`);
  }
}
