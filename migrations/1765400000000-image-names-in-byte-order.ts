import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Image names in byte order per repository, whatever the database's collation: the web UI's
 * image pages are keyset pages in COLLATE "C" order, which the (repository_id, name) index
 * serves only where the default collation sorts as bytes (Postgres's docker image defaults to
 * en_US.utf8, which does not).
 */
export class ImageNamesInByteOrder1765400000000 implements MigrationInterface {
  name = 'ImageNamesInByteOrder1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX images_repository_name_bytes_idx ON images (repository_id, name COLLATE "C")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX images_repository_name_bytes_idx`);
  }
}
