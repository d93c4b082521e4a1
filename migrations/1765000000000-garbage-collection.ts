import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Garbage collection runs: what each freed (or, dry, would free), and the one that runs now.
 * At most one row is `running` (a unique index): that row is the lock that lets one GC run at a
 * time across every host. Its holder renews `heartbeat_at`; a run whose holder died stops
 * counting as running once the heartbeat is stale, and the next run takes over.
 */
export class GarbageCollection1765000000000 implements MigrationInterface {
  name = 'GarbageCollection1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gc_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        trigger varchar(16) NOT NULL CHECK (trigger IN ('schedule', 'api')),
        dry_run boolean NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'abandoned')),
        requested_by varchar(255),
        host varchar(255) NOT NULL,
        phase varchar(32),
        result jsonb NOT NULL DEFAULT '{}',
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX gc_runs_one_running ON gc_runs ((true)) WHERE status = 'running'`);
    await q.query(`CREATE INDEX gc_runs_started_idx ON gc_runs (started_at DESC)`);
    // The sweeps look for links and blobs older than the grace period.
    await q.query(`CREATE INDEX repository_blobs_created_idx ON repository_blobs (created_at)`);
    await q.query(`CREATE INDEX upload_sessions_updated_idx ON upload_sessions (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX upload_sessions_updated_idx`);
    await q.query(`DROP INDEX repository_blobs_created_idx`);
    await q.query(`DROP TABLE gc_runs`);
  }
}
