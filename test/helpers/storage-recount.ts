import { Client } from 'pg';

/**
 * What /api/storageinfo should say of the blobs and of each repository, counted afresh from the
 * tables (the endpoint reads counters that triggers keep): compare with toMatchObject.
 */
export async function recountStorage(db: Client): Promise<{ binaries: object; repositories: object[] }> {
  const { rows } = await db.query(`
    SELECT r.key, r.rclass,
      (SELECT count(*) FROM images i WHERE i.repository_id = r.id)::int AS images,
      (SELECT count(*) FROM manifests m JOIN images i ON i.id = m.image_id WHERE i.repository_id = r.id)::int AS manifests,
      (SELECT count(*) FROM tags t JOIN images i ON i.id = t.image_id WHERE i.repository_id = r.id)::int AS tags,
      (SELECT count(*) FROM repository_blobs rb WHERE rb.repository_id = r.id)::int AS blobs,
      (SELECT coalesce(sum(b.size), 0) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = r.id)::bigint AS bytes,
      (SELECT coalesce(sum(b.size), 0) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = r.id
         AND NOT EXISTS (SELECT 1 FROM repository_blobs o WHERE o.digest = rb.digest AND o.repository_id <> r.id))::bigint AS "uniqueBytes"
    FROM repositories r ORDER BY r.key`);
  const repositories = rows.map((row) => ({ ...row, bytes: Number(row.bytes), uniqueBytes: Number(row.uniqueBytes) }));
  const stored = (await db.query(`SELECT count(*)::int AS count, coalesce(sum(size), 0)::bigint AS bytes FROM blobs`)).rows[0];
  const withoutDedup = repositories.reduce((sum, row) => sum + row.bytes, 0);
  return {
    binaries: { count: stored.count, bytes: Number(stored.bytes), bytesWithoutDedup: withoutDedup, savedByDedup: withoutDedup - Number(stored.bytes) },
    repositories,
  };
}
