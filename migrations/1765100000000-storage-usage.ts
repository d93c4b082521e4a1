import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage use kept up to date as blobs and links come and go, so /api/storageinfo and quota
 * checks read a few rows instead of summing every blob.
 *
 * Pushes never wait on the counters: triggers on `blobs` and `repository_blobs` only append to
 * `usage_deltas` (an insert locks nothing another writer needs). `fold_usage()` folds the deltas,
 * in order, into the counters, one folder at a time (the caller holds an advisory lock):
 * - `repository_usage`: per repository, the blobs it links and their bytes (each blob once), and
 *   the bytes of the blobs no other repository links;
 * - `blob_link_sets`: which repositories link each blob, as the folder has seen it, so a blob's
 *   bytes move to the one repository left when the others unlink it;
 * - `storage_totals`: the blobs stored and their bytes, each once.
 * Counters updated inside the writing transactions were tried first: a push's commit and a
 * garbage collection's could lock the same counter rows in opposite orders and deadlock.
 */
export class StorageUsage1765100000000 implements MigrationInterface {
  name = 'StorageUsage1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_deltas (
        id bigserial PRIMARY KEY,
        repository_id uuid,
        digest varchar(200) NOT NULL,
        size bigint NOT NULL,
        delta smallint NOT NULL
      )`);
    await q.query(`COMMENT ON COLUMN usage_deltas.repository_id IS 'null: the blob itself was stored or removed'`);
    await q.query(`
      CREATE TABLE repository_usage (
        repository_id uuid PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
        blobs bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        unique_bytes bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE TABLE blob_link_sets (digest varchar(200) PRIMARY KEY, repositories uuid[] NOT NULL)`);
    await q.query(`CREATE TABLE storage_totals (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), blobs bigint NOT NULL, bytes bigint NOT NULL)`);

    await q.query(`INSERT INTO blob_link_sets (digest, repositories) SELECT digest, array_agg(repository_id) FROM repository_blobs GROUP BY digest`);
    await q.query(`
      INSERT INTO repository_usage (repository_id, blobs, bytes, unique_bytes)
      SELECT r.id, count(b.digest), coalesce(sum(b.size), 0), coalesce(sum(b.size) FILTER (WHERE cardinality(s.repositories) = 1), 0)
      FROM repositories r
      LEFT JOIN repository_blobs rb ON rb.repository_id = r.id
      LEFT JOIN blobs b ON b.digest = rb.digest
      LEFT JOIN blob_link_sets s ON s.digest = rb.digest
      GROUP BY r.id`);
    await q.query(`INSERT INTO storage_totals (blobs, bytes) SELECT count(*), coalesce(sum(size), 0) FROM blobs`);

    await q.query(`
      CREATE FUNCTION repository_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO repository_usage (repository_id) VALUES (NEW.id);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER repositories_usage AFTER INSERT ON repositories FOR EACH ROW EXECUTE FUNCTION repository_usage_row()`);

    await q.query(`
      CREATE FUNCTION record_usage_delta() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'blobs' THEN
          INSERT INTO usage_deltas (repository_id, digest, size, delta)
          VALUES (NULL, coalesce(NEW.digest, OLD.digest), coalesce(NEW.size, OLD.size), CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END);
        ELSE
          -- A link's blob row exists while the link does (a blob is removed only once unlinked).
          INSERT INTO usage_deltas (repository_id, digest, size, delta)
          SELECT coalesce(NEW.repository_id, OLD.repository_id), b.digest, b.size, CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END
          FROM blobs b WHERE b.digest = coalesce(NEW.digest, OLD.digest);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER blobs_usage AFTER INSERT OR DELETE ON blobs FOR EACH ROW EXECUTE FUNCTION record_usage_delta()`);
    await q.query(`CREATE TRIGGER repository_blobs_usage AFTER INSERT OR DELETE ON repository_blobs FOR EACH ROW EXECUTE FUNCTION record_usage_delta()`);

    // Folds up to `batch` deltas, oldest first; how many. A link's +1 always comes before its -1
    // (the delete needs the committed insert), so the sets end up as the links are.
    await q.query(`
      CREATE FUNCTION fold_usage(batch integer) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        d usage_deltas;
        holders uuid[];
        folded bigint[] := '{}';
      BEGIN
        FOR d IN SELECT * FROM usage_deltas ORDER BY id LIMIT batch LOOP
          folded := folded || d.id;
          IF d.repository_id IS NULL THEN
            UPDATE storage_totals SET blobs = blobs + d.delta, bytes = bytes + d.delta * d.size;
            CONTINUE;
          END IF;
          SELECT repositories INTO holders FROM blob_link_sets WHERE digest = d.digest;
          holders := coalesce(holders, '{}');
          -- Already as this delta would leave it: nothing to count.
          IF (d.delta = 1) = (d.repository_id = ANY(holders)) THEN CONTINUE; END IF;
          UPDATE repository_usage SET blobs = blobs + d.delta, bytes = bytes + d.delta * d.size WHERE repository_id = d.repository_id;
          IF d.delta = 1 THEN
            IF cardinality(holders) = 0 THEN
              UPDATE repository_usage SET unique_bytes = unique_bytes + d.size WHERE repository_id = d.repository_id;
            ELSIF cardinality(holders) = 1 THEN
              UPDATE repository_usage SET unique_bytes = unique_bytes - d.size WHERE repository_id = holders[1];
            END IF;
            INSERT INTO blob_link_sets (digest, repositories) VALUES (d.digest, holders || d.repository_id)
              ON CONFLICT (digest) DO UPDATE SET repositories = excluded.repositories;
          ELSE
            holders := array_remove(holders, d.repository_id);
            IF cardinality(holders) = 0 THEN
              UPDATE repository_usage SET unique_bytes = unique_bytes - d.size WHERE repository_id = d.repository_id;
              DELETE FROM blob_link_sets WHERE digest = d.digest;
            ELSE
              IF cardinality(holders) = 1 THEN
                UPDATE repository_usage SET unique_bytes = unique_bytes + d.size WHERE repository_id = holders[1];
              END IF;
              UPDATE blob_link_sets SET repositories = holders WHERE digest = d.digest;
            END IF;
          END IF;
        END LOOP;
        -- By id: a delta committed meanwhile (with a lower id, its transaction began earlier) waits for the next fold.
        DELETE FROM usage_deltas WHERE id = ANY(folded);
        RETURN cardinality(folded);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION fold_usage`);
    await q.query(`DROP TRIGGER repository_blobs_usage ON repository_blobs`);
    await q.query(`DROP TRIGGER blobs_usage ON blobs`);
    await q.query(`DROP FUNCTION record_usage_delta`);
    await q.query(`DROP TRIGGER repositories_usage ON repositories`);
    await q.query(`DROP FUNCTION repository_usage_row`);
    for (const table of ['storage_totals', 'blob_link_sets', 'repository_usage', 'usage_deltas']) await q.query(`DROP TABLE ${table}`);
  }
}
