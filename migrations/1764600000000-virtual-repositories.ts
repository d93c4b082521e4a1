import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Virtual repositories: members as rows with foreign keys, so deleting a repository removes it
 * from every virtual (and clears a deployment target naming it) in the same statement.
 */
export class VirtualRepositories1764600000000 implements MigrationInterface {
  name = 'VirtualRepositories1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE virtual_members (
        virtual_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        member_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        position integer NOT NULL,
        PRIMARY KEY (virtual_id, member_id),
        UNIQUE (virtual_id, position),
        CHECK (virtual_id <> member_id)
      )`);
    await q.query(`CREATE INDEX virtual_members_member ON virtual_members (member_id)`);
    await q.query(`ALTER TABLE repositories ADD COLUMN default_deployment_repository_id uuid REFERENCES repositories(id) ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repositories DROP COLUMN default_deployment_repository_id`);
    await q.query(`DROP TABLE virtual_members`);
  }
}
