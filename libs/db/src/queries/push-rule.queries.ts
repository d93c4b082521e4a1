import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { ChangeFeed } from '../change-feed';
import { countRows, returnedRows } from './count-rows';

/** What the push rules of local repositories ask of tags and manifests. */
@Injectable()
export class PushRuleQueries {
  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {}

  /**
   * Sets a tag only if it does not exist yet; answers the manifest the tag points at afterwards
   * (the given one, or what it already held, locked until the transaction ends). Two pushes
   * racing for a new tag: the second waits for the first and then finds its manifest.
   */
  async tagOnce(imageId: string, name: string, manifestId: string): Promise<string> {
    const inserted = await this.db.query(`INSERT INTO tags (image_id, name, manifest_id) VALUES ($1, $2, $3) ON CONFLICT (image_id, name) DO NOTHING RETURNING manifest_id`, [
      imageId,
      name,
      manifestId,
    ]);
    if (inserted.length > 0) return manifestId;
    // A new statement: it sees what the transaction the insert waited for committed.
    const rows = await this.db.query(`SELECT manifest_id FROM tags WHERE image_id = $1 AND name = $2 FOR UPDATE`, [imageId, name]);
    return rows[0]?.manifest_id ?? manifestId;
  }

  /**
   * Removes the image's tags beyond the `keep` most recent (by when each was set), never
   * the `pushed` ones nor tags matching `exempt` (a POSIX regular expression: what a signature tool
   * attaches, which is not a version of the image); answers the names removed.
   */
  async pruneTags(imageId: string, keep: number, pushed: string[], exempt: string): Promise<string[]> {
    const rows = await this.db.query(
      `DELETE FROM tags WHERE image_id = $1 AND name IN (
         SELECT name FROM tags WHERE image_id = $1 AND name !~ $4
         ORDER BY (name = ANY($3)) DESC, updated_at DESC, name COLLATE "C" DESC OFFSET $2)
       RETURNING name`,
      [imageId, keep, pushed, exempt],
    );
    return returnedRows<{ name: string }>(rows).map((row) => row.name);
  }

  /** The tags of the image on the manifest `digest`, or on an index that holds it. */
  async tagsOn(repositoryId: string, image: string, digest: string): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT t.name FROM tags t JOIN images i ON i.id = t.image_id JOIN manifests m ON m.id = t.manifest_id
       WHERE i.repository_id = $1 AND i.name = $2
         AND (m.digest = $3 OR EXISTS (SELECT 1 FROM manifest_references r WHERE r.manifest_id = m.id AND r.kind = 'manifest' AND r.digest = $3))
       ORDER BY t.name COLLATE "C"`,
      [repositoryId, image, digest],
    );
    return rows.map((row: { name: string }) => row.name);
  }

  /** How many tags the image has; null when the repository has no such image. */
  async tagCount(repositoryId: string, image: string): Promise<number | null> {
    const rows = await this.db.query(`SELECT (SELECT count(*) FROM tags t WHERE t.image_id = i.id)::int AS count FROM images i WHERE i.repository_id = $1 AND i.name = $2`, [
      repositoryId,
      image,
    ]);
    return rows[0]?.count ?? null;
  }

  /**
   * Whether the manifest `digest` is signed, or is a child of a signed index of the same image
   * (cosign signs an index, not each platform's manifest): a referrer of one of `artifactTypes`,
   * or cosign's tag convention (`sha256-<hex>.sig`).
   */
  async isSigned(repositoryId: string, image: string, digest: string, artifactTypes: string[]): Promise<boolean> {
    const rows = await this.db.query(
      `WITH img AS (SELECT id FROM images WHERE repository_id = $1 AND name = $2),
       candidates AS (
         SELECT $3::varchar AS digest
         UNION
         SELECT p.digest FROM manifests p JOIN manifest_references r ON r.manifest_id = p.id
         WHERE p.image_id IN (SELECT id FROM img) AND r.kind = 'manifest' AND r.digest = $3
       )
       SELECT EXISTS (
         SELECT 1 FROM manifests s JOIN candidates c ON s.subject_digest = c.digest
         WHERE s.image_id IN (SELECT id FROM img) AND s.artifact_type = ANY($4)
       ) OR EXISTS (
         SELECT 1 FROM tags t JOIN candidates c ON t.name = replace(c.digest, ':', '-') || '.sig'
         WHERE t.image_id IN (SELECT id FROM img)
       ) AS signed`,
      [repositoryId, image, digest, artifactTypes],
    );
    return rows[0]?.signed === true;
  }

  /** Deletes an image with its tags and manifests (blob links stay for garbage collection). */
  async deleteImage(repositoryId: string, image: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM images WHERE repository_id = $1 AND name = $2 RETURNING id`, [repositoryId, image]);
    await this.feed.publish('tags');
    return countRows(rows) > 0;
  }
}
