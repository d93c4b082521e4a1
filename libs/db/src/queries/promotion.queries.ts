import { Injectable } from '@nestjs/common';
import { COSIGN_TAG, cosignTagsOf, cosignTagsSql } from '@wharf/oci';
import { Db } from '../db';
import { countRows } from './count-rows';

/** A manifest of a promotion's closure, as the source holds it. */
export interface ClosureManifest {
  id: string;
  digest: string;
  /** Reached as a referrer (a signature, SBOM or attestation), not as the image or its child. */
  referrer: boolean;
}

export interface TagPointer {
  name: string;
  digest: string;
}

export interface NewPromotion {
  username: string | null;
  tokenId: string | null;
  requestedSource: string;
  sourceRepository: string;
  sourceImage: string;
  requestedTarget: string;
  targetRepository: string;
  targetImage: string;
  copy: boolean;
  tags: Array<{ source: string; target: string; digest: string }>;
  digests: string[];
}

export interface PromotionRecord extends NewPromotion {
  id: string;
  createdAt: Date;
}

export interface PromotionFilter {
  /** Promotions from or to this repository (as addressed, or where the rows were). */
  repository?: string;
  image?: string;
  /** Promotions that carried this manifest. */
  digest?: string;
  /** Only promotions whose source or target is one of these repositories. */
  readable: string[];
  limit: number;
}

/**
 * The manifests of image `$1` reachable from the digests `$2`: an index's
 * children, the referrers of everything reached (artifacts whose subject it is), and what
 * cosign attaches by tag convention. One recursive query: digests cannot form cycles, and
 * UNION stops at rows already reached.
 */
const CLOSURE_CTE = `closure(id, digest, referrer) AS (
    SELECT m.id, m.digest, false FROM manifests m WHERE m.image_id = $1 AND m.digest = ANY($2::varchar[])
    UNION
    SELECT n.id, n.digest, n.referrer FROM closure c CROSS JOIN LATERAL (
      SELECT child.id, child.digest, c.referrer AS referrer
        FROM manifest_references r JOIN manifests child ON child.image_id = $1 AND child.digest = r.digest
        WHERE r.manifest_id = c.id AND r.kind = 'manifest'
      UNION ALL
      SELECT s.id, s.digest, true FROM manifests s WHERE s.image_id = $1 AND s.subject_digest = c.digest
      UNION ALL
      SELECT tm.id, tm.digest, true FROM tags t JOIN manifests tm ON tm.id = t.manifest_id
        WHERE t.image_id = $1 AND t.name IN (${cosignTagsSql('c.digest')})
    ) n
  )`;

const PROMOTION_COLUMNS = `id, created_at AS "createdAt", username, token_id AS "tokenId", requested_source AS "requestedSource",
  source_repository AS "sourceRepository", source_image AS "sourceImage", requested_target AS "requestedTarget",
  target_repository AS "targetRepository", target_image AS "targetImage", copy, tags, digests`;

/**
 * What promotion does to rows: a manifest closure copied from one image to another (blobs are
 * shared by digest, so only links are added), tags set, a moved image's leftovers removed, and
 * the provenance record. Meant to run inside one transaction (Db.transaction), which each
 * method joins.
 */
@Injectable()
export class PromotionQueries {
  constructor(private readonly db: Db) {}

  /**
   * Where the image's `names` tags point, locked until the transaction ends: exclusively when
   * they are about to move away, shared when only copied.
   */
  async lockTags(imageId: string, names: string[], exclusive: boolean): Promise<TagPointer[]> {
    return this.db.query(
      `SELECT t.name, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id
       WHERE t.image_id = $1 AND t.name = ANY($2) FOR ${exclusive ? 'UPDATE' : 'SHARE'} OF t`,
      [imageId, names],
    );
  }

  /** Every manifest a promotion of `roots` carries, locked against deletion until the transaction ends. */
  async closure(imageId: string, roots: string[]): Promise<ClosureManifest[]> {
    return this.db.query(
      `WITH RECURSIVE ${CLOSURE_CTE}
       SELECT m.id, m.digest, (SELECT bool_and(c.referrer) FROM closure c WHERE c.id = m.id) AS referrer
       FROM manifests m WHERE m.id IN (SELECT id FROM closure) FOR SHARE OF m`,
      [imageId, roots],
    );
  }

  /** cosign's tag-convention tags in the image that point into the given manifests. */
  async cosignTags(imageId: string, closure: ClosureManifest[]): Promise<TagPointer[]> {
    const names = closure.flatMap((m) => cosignTagsOf(m.digest));
    return this.db.query(
      `SELECT t.name, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id
       WHERE t.image_id = $1 AND t.name = ANY($2) AND t.manifest_id = ANY($3::uuid[])`,
      [imageId, names, closure.map((m) => m.id)],
    );
  }

  /**
   * Copies the manifests (by id) into the target image, with their references, and links the
   * blobs they reference (those stored on this server) into the target repository. Manifests
   * the target already holds stay as they are. Answers how many rows were new.
   */
  async copy(manifestIds: string[], targetImageId: string, targetRepositoryId: string): Promise<{ manifestsAdded: number; blobsLinked: number }> {
    const rows = await this.db.query(
      `WITH src AS (SELECT * FROM manifests WHERE id = ANY($1::uuid[])),
       added AS (
         INSERT INTO manifests (image_id, digest, media_type, size, content, artifact_type, subject_digest, annotations)
         SELECT $2, digest, media_type, size, content, artifact_type, subject_digest, annotations FROM src
         ON CONFLICT (image_id, digest) DO NOTHING RETURNING id, digest
       ),
       refs AS (
         INSERT INTO manifest_references (manifest_id, kind, digest)
         SELECT added.id, r.kind, r.digest FROM added JOIN src ON src.digest = added.digest JOIN manifest_references r ON r.manifest_id = src.id
         ON CONFLICT DO NOTHING
       ),
       links AS (
         INSERT INTO repository_blobs (repository_id, digest)
         SELECT DISTINCT $3::uuid, r.digest FROM manifest_references r JOIN blobs b ON b.digest = r.digest
         WHERE r.manifest_id = ANY($1::uuid[]) AND r.kind = 'blob'
         ON CONFLICT DO NOTHING RETURNING digest
       )
       SELECT (SELECT count(*) FROM added)::int AS "manifestsAdded", (SELECT count(*) FROM links)::int AS "blobsLinked"`,
      [manifestIds, targetImageId, targetRepositoryId],
    );
    return rows[0];
  }

  /**
   * Points the target image's tags at manifests (by digest) it holds. `frozen` (a repository
   * that does not allow tag overwrite): an existing tag keeps its manifest, and the tags that
   * point at other content than asked are answered (the caller refuses the promotion); racing
   * promotions wait for each other on the tag's row, so one wins.
   */
  async setTags(imageId: string, tags: TagPointer[], frozen: boolean): Promise<string[]> {
    const params = [imageId, tags.map((t) => t.name), tags.map((t) => t.digest)];
    const pairs = `SELECT x.name, m.id FROM unnest($2::varchar[], $3::varchar[]) AS x(name, digest) JOIN manifests m ON m.image_id = $1 AND m.digest = x.digest`;
    if (!frozen) {
      await this.db.query(
        `INSERT INTO tags (image_id, name, manifest_id) SELECT $1, name, id FROM (${pairs}) p
         ON CONFLICT (image_id, name) DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = now()`,
        params,
      );
      return [];
    }
    await this.db.query(`INSERT INTO tags (image_id, name, manifest_id) SELECT $1, name, id FROM (${pairs}) p ON CONFLICT (image_id, name) DO NOTHING`, params);
    // A new statement: it sees what a transaction the insert waited for committed.
    const held: Array<{ name: string }> = await this.db.query(
      `SELECT t.name FROM tags t JOIN (${pairs}) p ON p.name = t.name WHERE t.image_id = $1 AND t.manifest_id <> p.id ORDER BY t.name FOR UPDATE OF t`,
      params,
    );
    return held.map((row) => row.name);
  }

  /**
   * After a move: removes the moved tags from the source image, then those of the moved
   * manifests nothing left in the image needs. Worked backwards from the moved manifests, so the
   * cost follows what moved, not how many tags the image keeps: a moved manifest stays when a
   * remaining tag points at it, a manifest outside the move holds it (an index its child, a
   * subject its referrer, a signed manifest cosign's tag), or a manifest that stays reaches it.
   * cosign's tag-convention tags keep nothing by themselves: they go with what they sign.
   * Answers how many manifests were removed.
   */
  async removeMoved(imageId: string, tags: string[], moved: string[]): Promise<number> {
    await this.db.query(`DELETE FROM tags WHERE image_id = $1 AND name = ANY($2)`, [imageId, tags]);
    const rows = await this.db.query(
      `WITH RECURSIVE moved AS (SELECT id, digest, subject_digest FROM manifests WHERE image_id = $1 AND id = ANY($2::uuid[])),
       -- Scalar subqueries with LIMIT 1 run once per moved manifest on the indexes; EXISTS may be
       -- planned as a hash of the whole image (seen: 600 ms for an image of 1,000 tags).
       seeds AS (
         SELECT m.id, m.digest FROM moved m WHERE
           (SELECT 1 FROM tags t WHERE t.manifest_id = m.id AND t.image_id = $1 AND t.name !~ '${COSIGN_TAG.source}' LIMIT 1) IS NOT NULL
           OR (SELECT 1 FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id
               WHERE r.digest = m.digest AND r.kind = 'manifest' AND p.image_id = $1 AND p.id <> ALL($2::uuid[]) LIMIT 1) IS NOT NULL
           OR (SELECT 1 FROM manifests s WHERE s.image_id = $1 AND s.digest = m.subject_digest AND s.id <> ALL($2::uuid[]) LIMIT 1) IS NOT NULL
           OR (SELECT 1 FROM tags t JOIN manifests s ON s.image_id = $1 AND s.digest = regexp_replace(t.name, '${COSIGN_TAG.source}', '\\1:\\2')
               WHERE t.manifest_id = m.id AND t.image_id = $1 AND s.id <> ALL($2::uuid[]) LIMIT 1) IS NOT NULL
       ),
       kept(id, digest) AS (
         SELECT id, digest FROM seeds
         UNION
         SELECT n.id, n.digest FROM kept k CROSS JOIN LATERAL (
           SELECT c.id, c.digest FROM manifest_references r JOIN moved c ON c.digest = r.digest WHERE r.manifest_id = k.id AND r.kind = 'manifest'
           UNION ALL
           SELECT s.id, s.digest FROM moved s WHERE s.subject_digest = k.digest
           UNION ALL
           SELECT tm.id, tm.digest FROM tags t JOIN moved tm ON tm.id = t.manifest_id
             WHERE t.image_id = $1 AND t.name IN (${cosignTagsSql('k.digest')})
         ) n
       )
       DELETE FROM manifests WHERE image_id = $1 AND id = ANY($2::uuid[]) AND id NOT IN (SELECT id FROM kept) RETURNING id`,
      [imageId, moved],
    );
    return countRows(rows);
  }

  async record(promotion: NewPromotion): Promise<PromotionRecord> {
    const rows = await this.db.query(
      `INSERT INTO promotions (username, token_id, requested_source, source_repository, source_image, requested_target, target_repository, target_image, copy, tags, digests)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${PROMOTION_COLUMNS}`,
      [
        promotion.username,
        promotion.tokenId,
        promotion.requestedSource,
        promotion.sourceRepository,
        promotion.sourceImage,
        promotion.requestedTarget,
        promotion.targetRepository,
        promotion.targetImage,
        promotion.copy,
        JSON.stringify(promotion.tags),
        promotion.digests,
      ],
    );
    return rows[0];
  }

  /** Newest first. */
  async list(filter: PromotionFilter): Promise<PromotionRecord[]> {
    const params: unknown[] = [filter.readable];
    const conditions = ['(source_repository = ANY($1) OR requested_source = ANY($1) OR target_repository = ANY($1) OR requested_target = ANY($1))'];
    if (filter.repository !== undefined) {
      params.push(filter.repository);
      const repo = `$${params.length}`;
      if (filter.image !== undefined) {
        params.push(filter.image);
        const image = `$${params.length}`;
        conditions.push(
          `(((source_repository = ${repo} OR requested_source = ${repo}) AND source_image = ${image}) OR ((target_repository = ${repo} OR requested_target = ${repo}) AND target_image = ${image}))`,
        );
      } else {
        conditions.push(`${repo} IN (source_repository, requested_source, target_repository, requested_target)`);
      }
    } else if (filter.image !== undefined) {
      params.push(filter.image);
      conditions.push(`$${params.length} IN (source_image, target_image)`);
    }
    if (filter.digest !== undefined) {
      params.push([filter.digest]);
      conditions.push(`digests @> $${params.length}::varchar[]`);
    }
    params.push(filter.limit);
    return this.db.query(`SELECT ${PROMOTION_COLUMNS} FROM promotions WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id LIMIT $${params.length}`, params);
  }
}
