import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provenance of promotions: who moved or copied which manifests from where to where. Keys and
 * names, not foreign keys, so the history outlives the repositories it names.
 */
export class Promotions1764700000000 implements MigrationInterface {
  name = 'Promotions1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE promotions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        username varchar(255),
        token_id uuid,
        requested_source varchar(64) NOT NULL,
        source_repository varchar(64) NOT NULL,
        source_image varchar(255) NOT NULL,
        requested_target varchar(64) NOT NULL,
        target_repository varchar(64) NOT NULL,
        target_image varchar(255) NOT NULL,
        copy boolean NOT NULL,
        tags jsonb NOT NULL,
        digests varchar(200)[] NOT NULL
      )`);
    await q.query(`CREATE INDEX promotions_source_idx ON promotions (source_repository, source_image)`);
    await q.query(`CREATE INDEX promotions_target_idx ON promotions (target_repository, target_image)`);
    await q.query(`CREATE INDEX promotions_digests_idx ON promotions USING gin (digests)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE promotions`);
  }
}
