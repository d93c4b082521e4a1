import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage use kept up to date as links come and go, so /api/storageinfo and quota checks read a
 * few rows instead of summing every blob:
 * - `blobs.link_count`: how many repositories link the blob;
 * - `repository_usage`: per repository, the blobs it links and their bytes (each blob once), and
 *   the bytes of the blobs no other repository links;
 * - `storage_totals`: the blobs stored and their bytes, once each (deduplicated), in a few rows
 *   that are summed (concurrent pushes add to different rows instead of queueing on one).
 * Triggers keep them; the link triggers are deferred to the end of the writing transaction, so a
 * push holds a repository's usage row only for the moment of its commit.
 */
export class StorageUsage1765100000000 implements MigrationInterface {
  name = 'StorageUsage1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE blobs ADD COLUMN link_count integer NOT NULL DEFAULT 0`);
    await q.query(`UPDATE blobs b SET link_count = (SELECT count(*) FROM repository_blobs rb WHERE rb.digest = b.digest)`);
    await q.query(`
      CREATE TABLE repository_usage (
        repository_id uuid PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
        blobs bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        unique_bytes bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`
      INSERT INTO repository_usage (repository_id, blobs, bytes, unique_bytes)
      SELECT r.id, count(b.digest), coalesce(sum(b.size), 0), coalesce(sum(b.size) FILTER (WHERE b.link_count = 1), 0)
      FROM repositories r LEFT JOIN repository_blobs rb ON rb.repository_id = r.id LEFT JOIN blobs b ON b.digest = rb.digest
      GROUP BY r.id`);
    await q.query(`
      CREATE TABLE storage_totals (
        shard smallint PRIMARY KEY,
        blobs bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`INSERT INTO storage_totals (shard) SELECT generate_series(0, 15)`);
    await q.query(`UPDATE storage_totals SET blobs = (SELECT count(*) FROM blobs), bytes = (SELECT coalesce(sum(size), 0) FROM blobs) WHERE shard = 0`);

    await q.query(`
      CREATE FUNCTION repository_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO repository_usage (repository_id) VALUES (NEW.id);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER repositories_usage AFTER INSERT ON repositories FOR EACH ROW EXECUTE FUNCTION repository_usage_row()`);

    // A link added or removed moves the repository's bytes, and the uniqueness of the blob:
    // the first link makes it unique to its repository, a second takes that away from the
    // first one's repository; removing links does the reverse.
    await q.query(`
      CREATE FUNCTION repository_blob_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        delta integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
        link repository_blobs := CASE WHEN TG_OP = 'INSERT' THEN NEW ELSE OLD END;
        links integer;
        blob_size bigint;
        other uuid;
      BEGIN
        UPDATE blobs SET link_count = link_count + delta WHERE digest = link.digest RETURNING link_count, size INTO links, blob_size;
        IF blob_size IS NULL THEN
          RETURN NULL;
        END IF;
        UPDATE repository_usage SET blobs = blobs + delta, bytes = bytes + delta * blob_size,
          unique_bytes = unique_bytes + CASE WHEN (delta = 1 AND links = 1) OR (delta = -1 AND links = 0) THEN delta * blob_size ELSE 0 END
          WHERE repository_id = link.repository_id;
        IF (delta = 1 AND links = 2) OR (delta = -1 AND links = 1) THEN
          SELECT repository_id INTO other FROM repository_blobs WHERE digest = link.digest AND repository_id <> link.repository_id LIMIT 1;
          UPDATE repository_usage SET unique_bytes = unique_bytes - delta * blob_size WHERE repository_id = other;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER repository_blobs_usage AFTER INSERT OR DELETE ON repository_blobs
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION repository_blob_usage()`);

    await q.query(`
      CREATE FUNCTION blob_totals() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        -- Drawn once: in the WHERE clause random() would be drawn again for every row.
        chosen smallint := floor(random() * 16)::smallint;
      BEGIN
        UPDATE storage_totals
          SET blobs = blobs + CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END,
              bytes = bytes + CASE WHEN TG_OP = 'INSERT' THEN NEW.size ELSE -OLD.size END
          WHERE shard = chosen;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER blobs_totals AFTER INSERT OR DELETE ON blobs
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION blob_totals()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER blobs_totals ON blobs`);
    await q.query(`DROP FUNCTION blob_totals`);
    await q.query(`DROP TRIGGER repository_blobs_usage ON repository_blobs`);
    await q.query(`DROP FUNCTION repository_blob_usage`);
    await q.query(`DROP TRIGGER repositories_usage ON repositories`);
    await q.query(`DROP FUNCTION repository_usage_row`);
    await q.query(`DROP TABLE storage_totals`);
    await q.query(`DROP TABLE repository_usage`);
    await q.query(`ALTER TABLE blobs DROP COLUMN link_count`);
  }
}
