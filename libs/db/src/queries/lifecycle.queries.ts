import { Injectable } from '@nestjs/common';
import { ChangeFeed } from '../change-feed';
import { Db } from '../db';
import { returnedRows } from './count-rows';

export interface RepositoryRow {
  id: string;
  key: string;
  settings: Record<string, unknown>;
}

export interface TagRow {
  image: string;
  imageId: string;
  name: string;
  digest: string;
  pushedAt: Date;
  pulledAt: Date | null;
}

/**
 * Untagged manifests a sweep may take: not a child of an index of the image (the index goes
 * first, its children on the next pass), and not a referrer whose subject is still there (a
 * signature or SBOM lives as long as what it describes). `m` is the manifest.
 */
const COLLECTABLE_MANIFEST = `
  NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
  AND NOT EXISTS (
    SELECT 1 FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id
    WHERE p.image_id = m.image_id AND r.kind = 'manifest' AND r.digest = m.digest
  )
  AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.image_id = m.image_id AND s.digest = m.subject_digest))`;

/** Pull times, retention, untagged manifests and remote cache eviction: the rows lifecycle rules act on. */
@Injectable()
export class LifecycleQueries {
  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {}

  /** Records pulls seen since the last flush, in two statements whatever their number. */
  async recordPulls(manifestIds: string[], blobs: Array<{ repositoryId: string; digest: string }>): Promise<void> {
    if (manifestIds.length) await this.db.query(`UPDATE manifests SET last_pulled_at = now() WHERE id = ANY($1::uuid[])`, [manifestIds]);
    if (blobs.length) {
      await this.db.query(
        `UPDATE repository_blobs rb SET last_pulled_at = now() FROM unnest($1::uuid[], $2::text[]) AS p(repository_id, digest)
         WHERE rb.repository_id = p.repository_id AND rb.digest = p.digest`,
        [blobs.map((blob) => blob.repositoryId), blobs.map((blob) => blob.digest)],
      );
    }
  }

  async repositories(rclass: 'local' | 'remote'): Promise<RepositoryRow[]> {
    return this.db.query(`SELECT id, key, settings FROM repositories WHERE rclass = $1 ORDER BY key`, [rclass]);
  }

  /** Every tag of the repository with when it was pushed and its manifest last pulled. */
  async tags(repositoryId: string): Promise<TagRow[]> {
    return this.db.query(
      `SELECT i.name AS image, i.id AS "imageId", t.name, m.digest, t.updated_at AS "pushedAt", m.last_pulled_at AS "pulledAt"
       FROM tags t JOIN images i ON i.id = t.image_id JOIN manifests m ON m.id = t.manifest_id
       WHERE i.repository_id = $1 ORDER BY i.name, t.name`,
      [repositoryId],
    );
  }

  /**
   * Removes tags as retention decided, each only if it was not pushed again since (its pushed
   * time is the one retention weighed, to the millisecond a JavaScript Date holds); what was removed.
   */
  async removeTags(tags: TagRow[]): Promise<TagRow[]> {
    if (tags.length === 0) return [];
    const rows = returnedRows<{ imageId: string; name: string }>(
      await this.db.query(
        `DELETE FROM tags t USING unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS r(image_id, name, pushed_at)
         WHERE t.image_id = r.image_id AND t.name = r.name AND date_trunc('milliseconds', t.updated_at) = r.pushed_at
         RETURNING t.image_id AS "imageId", t.name`,
        [tags.map((tag) => tag.imageId), tags.map((tag) => tag.name), tags.map((tag) => tag.pushedAt)],
      ),
    );
    const removed = new Set(rows.map((row) => `${row.imageId}\n${row.name}`));
    return tags.filter((tag) => removed.has(`${tag.imageId}\n${tag.name}`));
  }

  /** The manifests that go with these when they go: an index's children, and referrers (signatures, SBOMs) of them. */
  async dependents(repositoryId: string, digests: string[]): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT r.digest FROM manifest_references r JOIN manifests m ON m.id = r.manifest_id JOIN images i ON i.id = m.image_id
       WHERE i.repository_id = $1 AND m.digest = ANY($2) AND r.kind = 'manifest'
       UNION
       SELECT m.digest FROM manifests m JOIN images i ON i.id = m.image_id WHERE i.repository_id = $1 AND m.subject_digest = ANY($2)`,
      [repositoryId, digests],
    );
    return rows.map((row: { digest: string }) => row.digest);
  }

  /** How many untagged manifests of the repository older than `ageSeconds` a sweep would take now. */
  async countUntagged(repositoryId: string, ageSeconds: number): Promise<number> {
    const rows = await this.db.query(
      `SELECT count(*)::int AS n FROM manifests m JOIN images i ON i.id = m.image_id
       WHERE i.repository_id = $1 AND m.created_at < now() - make_interval(secs => $2) AND ${COLLECTABLE_MANIFEST}`,
      [repositoryId, ageSeconds],
    );
    return rows[0].n;
  }

  /**
   * Deletes up to `limit` untagged manifests older than `ageSeconds` (of `digests` only, when
   * given); how many. Locked first, skipping any a push holds (a tag or an index being pushed onto
   * it takes its row FOR KEY SHARE), then checked again by a new statement that sees every push
   * committed meanwhile.
   */
  async collectUntagged(repositoryId: string, ageSeconds: number, limit: number, digests?: string[]): Promise<number> {
    return this.db.transaction(async () => {
      const locked = await this.db.query(
        `SELECT m.id FROM manifests m JOIN images i ON i.id = m.image_id
         WHERE i.repository_id = $1 AND m.created_at < now() - make_interval(secs => $2) AND ($4::text[] IS NULL OR m.digest = ANY($4)) AND ${COLLECTABLE_MANIFEST}
         LIMIT $3 FOR UPDATE OF m SKIP LOCKED`,
        [repositoryId, ageSeconds, limit, digests ?? null],
      );
      if (locked.length === 0) return 0;
      const deleted = await this.db.query(`DELETE FROM manifests m WHERE m.id = ANY($1::uuid[]) AND ${COLLECTABLE_MANIFEST} RETURNING m.id`, [
        locked.map((row: { id: string }) => row.id),
      ]);
      return returnedRows(deleted).length;
    });
  }

  /** A remote's cached manifests and blob links not pulled (nor cached) within `days`: counted, or deleted. */
  async evictUnpulled(repositoryId: string, days: number, dryRun: boolean): Promise<{ manifests: number; blobLinks: number }> {
    const staleManifests = `manifests m WHERE m.image_id IN (SELECT id FROM images WHERE repository_id = $1)
      AND coalesce(m.last_pulled_at, m.created_at) < now() - make_interval(days => $2)`;
    const staleLinks = `repository_blobs WHERE repository_id = $1 AND coalesce(last_pulled_at, created_at) < now() - make_interval(days => $2)`;
    if (dryRun) {
      const [row] = await this.db.query(`SELECT (SELECT count(*) FROM ${staleManifests})::int AS manifests, (SELECT count(*) FROM ${staleLinks})::int AS "blobLinks"`, [
        repositoryId,
        days,
      ]);
      return row;
    }
    const manifests = returnedRows(await this.db.query(`DELETE FROM ${staleManifests} RETURNING m.id`, [repositoryId, days]));
    const links = returnedRows(await this.db.query(`DELETE FROM ${staleLinks} RETURNING digest`, [repositoryId, days]));
    return { manifests: manifests.length, blobLinks: links.length };
  }

  /**
   * A remote's cached blob links, least recently pulled first, beyond the first `maxBytes` of
   * the most recently pulled: counted (dry), or deleted. How many.
   */
  async evictBeyond(repositoryId: string, maxBytes: number, dryRun: boolean): Promise<number> {
    const beyond = `
      SELECT digest FROM (
        SELECT rb.digest, sum(b.size) OVER (ORDER BY coalesce(rb.last_pulled_at, rb.created_at) DESC, rb.digest) AS running
        FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1
      ) x WHERE running > $2`;
    if (dryRun) return (await this.db.query(beyond, [repositoryId, maxBytes])).length;
    const deleted = await this.db.query(`DELETE FROM repository_blobs WHERE repository_id = $1 AND digest IN (${beyond}) RETURNING digest`, [repositoryId, maxBytes]);
    return returnedRows(deleted).length;
  }

  /** Announces removed tags and manifests to every host's caches. */
  async changed(): Promise<void> {
    await this.feed.publish('tags');
  }
}
