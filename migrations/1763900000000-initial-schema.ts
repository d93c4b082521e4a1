import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE repositories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key varchar(64) NOT NULL UNIQUE,
        rclass varchar(16) NOT NULL CHECK (rclass IN ('local', 'remote', 'virtual')),
        package_type varchar(16) NOT NULL DEFAULT 'docker',
        description text NOT NULL DEFAULT '',
        settings jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE images (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        repository_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (repository_id, name)
      )`);
    await q.query(`
      CREATE TABLE manifests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        image_id uuid NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        digest varchar(200) NOT NULL,
        media_type varchar(255) NOT NULL,
        size integer NOT NULL,
        content bytea NOT NULL,
        artifact_type varchar(255),
        subject_digest varchar(200),
        annotations jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (image_id, digest)
      )`);
    await q.query(`CREATE INDEX manifests_subject_idx ON manifests (image_id, subject_digest) WHERE subject_digest IS NOT NULL`);
    await q.query(`
      CREATE TABLE manifest_references (
        manifest_id uuid NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        kind varchar(16) NOT NULL CHECK (kind IN ('blob', 'manifest')),
        digest varchar(200) NOT NULL,
        PRIMARY KEY (manifest_id, kind, digest)
      )`);
    await q.query(`CREATE INDEX manifest_references_digest_idx ON manifest_references (digest)`);
    await q.query(`
      CREATE TABLE tags (
        image_id uuid NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        name varchar(128) NOT NULL,
        manifest_id uuid NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (image_id, name)
      )`);
    await q.query(`CREATE INDEX tags_manifest_idx ON tags (manifest_id)`);
    await q.query(`
      CREATE TABLE blobs (
        digest varchar(200) PRIMARY KEY,
        size bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE repository_blobs (
        repository_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest varchar(200) NOT NULL REFERENCES blobs(digest),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (repository_id, digest)
      )`);
    await q.query(`CREATE INDEX repository_blobs_digest_idx ON repository_blobs (digest)`);
    await q.query(`
      CREATE TABLE upload_sessions (
        id uuid PRIMARY KEY,
        repository_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        image_name varchar(255) NOT NULL,
        size bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['upload_sessions', 'repository_blobs', 'blobs', 'tags', 'manifest_references', 'manifests', 'images', 'repositories']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
