import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Small facts every host of one installation must agree on, by name: the fingerprint of the
 * server key that seals upstream passwords, so a host started with another key stops at boot
 * instead of failing pulls later.
 */
export class ServerSettings1764900000000 implements MigrationInterface {
  name = 'ServerSettings1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE server_settings (
        name varchar(64) PRIMARY KEY,
        value text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE server_settings`);
  }
}
