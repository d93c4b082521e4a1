import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: every change and every security event, one row each, written in the
 * transaction of the change it records (a rolled-back push leaves no row, a committed one
 * always has its row). Who (user, access token), from where (client address), under which
 * request id, and what: the repository, image, tag and digest it touched, and the rest in
 * `details`. Read newest first by id, filtered by user, repository, action or time; rows older
 * than WHARF_AUDIT_RETENTION_DAYS are deleted in batches by time.
 */
export class AuditEvents1765500000000 implements MigrationInterface {
  name = 'AuditEvents1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        action varchar(64) NOT NULL,
        username text,
        token_id uuid,
        address varchar(64),
        request_id varchar(64),
        request jsonb,
        repository varchar(64),
        image text,
        tag varchar(128),
        digest varchar(200),
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    // Pages run newest first by id; each filter walks its own index in that order.
    await q.query(`CREATE INDEX audit_events_username_idx ON audit_events (username, id)`);
    await q.query(`CREATE INDEX audit_events_repository_idx ON audit_events (repository, id)`);
    await q.query(`CREATE INDEX audit_events_action_idx ON audit_events (action, id)`);
    // since/until, and retention deleting the oldest rows.
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
