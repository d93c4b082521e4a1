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
 *
 * `count_request` counts one event if the sliding estimate stays within the limit: a function
 * because its plans are kept per connection, which halved the cost of the same statement sent
 * as a CTE and planned on every manifest GET (0.64 -> 0.32 ms a call, `SELECT 1` 0.18 ms).
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
    // The upsert serializes concurrent calls on the row and re-checks the limit against its latest
    // count, so the limit holds however many hosts count; a refused event is not counted.
    await q.query(`
      CREATE FUNCTION count_request(
        p_subject text, p_start timestamptz, p_previous_start timestamptz, p_previous_weight float8, p_limit integer, p_expires_at timestamptz,
        OUT counted integer, OUT current_count integer, OUT previous_count integer
      ) LANGUAGE plpgsql AS $$
      BEGIN
        previous_count := coalesce((SELECT count FROM request_counts WHERE subject = p_subject AND window_start = p_previous_start), 0);
        INSERT INTO request_counts AS c (subject, window_start, count, expires_at)
          SELECT p_subject, p_start, 1, p_expires_at WHERE 1 + previous_count * p_previous_weight <= p_limit
          ON CONFLICT (subject, window_start) DO UPDATE SET count = c.count + 1
            WHERE c.count + 1 + previous_count * p_previous_weight <= p_limit
          RETURNING c.count INTO counted;
        current_count := coalesce(counted, (SELECT count FROM request_counts WHERE subject = p_subject AND window_start = p_start), 0);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION count_request`);
    await q.query(`DROP TABLE request_counts`);
  }
}
