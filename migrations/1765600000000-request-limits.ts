import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Counts for request limits, shared by every worker and host on the database: manifest GETs per
 * user name or anonymous address in fixed windows (pull limits), and failed logins per key at the
 * millisecond they happened (the login limiter's sliding log). One row per (subject, slot);
 * `expires_at` says when a row no longer matters, so any host's sweep may delete it.
 *
 * UNLOGGED: a row changes on every counted manifest GET, and a count is worth no WAL. A crash
 * empties the table, which like a restart of the old per-process counters errs on allowing.
 * The fill factor leaves room on each page for the updated row versions (HOT updates).
 */
export class RequestLimits1765600000000 implements MigrationInterface {
  name = 'RequestLimits1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE request_counts (
        subject text NOT NULL,
        window_start timestamptz NOT NULL,
        count integer NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (subject, window_start)
      ) WITH (fillfactor = 70)`);
    await q.query(`CREATE INDEX request_counts_expires_idx ON request_counts (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE request_counts`);
  }
}
