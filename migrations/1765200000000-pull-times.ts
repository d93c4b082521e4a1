import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each manifest, and each blob of a remote's cache, was last pulled: retention keeps tags
 * pulled lately, and a remote's cache forgets what has not been pulled for long, least recently
 * pulled first. Written in batches by PullRecorder, never once per pull.
 */
export class PullTimes1765200000000 implements MigrationInterface {
  name = 'PullTimes1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE manifests ADD COLUMN last_pulled_at timestamptz`);
    await q.query(`ALTER TABLE repository_blobs ADD COLUMN last_pulled_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repository_blobs DROP COLUMN last_pulled_at`);
    await q.query(`ALTER TABLE manifests DROP COLUMN last_pulled_at`);
  }
}
