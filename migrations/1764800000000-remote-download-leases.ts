import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who is downloading an uncached blob of a remote repository right now: one host per blob, so
 * concurrent cold pulls that land on different hosts make one upstream download. A lease
 * expires unless its holder renews it, so a host that died mid-download hands the blob over.
 */
export class RemoteDownloadLeases1764800000000 implements MigrationInterface {
  name = 'RemoteDownloadLeases1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE remote_download_leases (
        repository_id uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        digest varchar(200) NOT NULL,
        holder varchar(200) NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (repository_id, digest)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE remote_download_leases`);
  }
}
