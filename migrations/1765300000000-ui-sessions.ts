import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Web UI sign-ins: a session per sign-in, found by the hash of the secret its httpOnly cookie
 * carries, with the CSRF token the UI must echo on every change. Kept in Postgres, so a session
 * works on every host and signing out (or disabling the user) ends it everywhere.
 */
export class UiSessions1765300000000 implements MigrationInterface {
  name = 'UiSessions1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ui_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        secret_hash varchar(64) NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf_token varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ui_sessions`);
  }
}
