import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { returnedRows } from './count-rows';
import { Page } from './image.queries';
import { boundWithoutNul } from './nul-free';
import { ChangeFeed } from '../change-feed';

/** A tag as the browse listing shows it, with what it points at (not the manifest's bytes). */
export interface TagSummaryRow {
  name: string;
  imageId: string;
  digest: string;
  mediaType: string;
  size: number;
  updatedAt: Date;
}

@Injectable()
export class TagQueries {
  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {}

  /** Announces tag changes made inside a caller's transaction, once it has committed. */
  changed(): Promise<void> {
    return this.feed.publish('tags');
  }

  async upsert(imageId: string, name: string, manifestId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO tags (image_id, name, manifest_id) VALUES ($1, $2, $3)
       ON CONFLICT (image_id, name) DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = now()`,
      [imageId, name, manifestId],
    );
  }

  /** Marks a tag as just revalidated (remote repositories: its freshness clock restarts). */
  async touch(repositoryId: string, image: string, name: string): Promise<void> {
    await this.db.query(`UPDATE tags t SET updated_at = now() FROM images i WHERE i.id = t.image_id AND i.repository_id = $1 AND i.name = $2 AND t.name = $3`, [
      repositoryId,
      image,
      name,
    ]);
    await this.feed.publish('tags');
  }

  /** The digest the deleted tag pointed at; null when there was no such tag. */
  async delete(repositoryId: string, image: string, name: string): Promise<string | null> {
    const result = await this.db.query(
      `DELETE FROM tags t USING images i, manifests m
       WHERE i.id = t.image_id AND m.id = t.manifest_id AND i.repository_id = $1 AND i.name = $2 AND t.name = $3 RETURNING m.digest`,
      [repositoryId, image, name],
    );
    await this.feed.publish('tags');
    return returnedRows<{ digest: string }>(result)[0]?.digest ?? null;
  }

  /** The image's tags on the manifest `digest`, in byte order. */
  async pointingAt(repositoryId: string, image: string, digest: string): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT t.name FROM tags t JOIN images i ON i.id = t.image_id JOIN manifests m ON m.id = t.manifest_id
       WHERE i.repository_id = $1 AND i.name = $2 AND m.digest = $3 ORDER BY t.name COLLATE "C"`,
      [repositoryId, image, digest],
    );
    return rows.map((r: { name: string }) => r.name);
  }

  /** Tags in byte order, after `last`, at most `n`. */
  async list(imageId: string, page: Page): Promise<string[]> {
    const params: unknown[] = [imageId];
    let after = '';
    let limit = '';
    if (page.last !== undefined) {
      params.push(boundWithoutNul(page.last));
      after = `AND name COLLATE "C" > $${params.length}`;
    }
    if (page.n !== undefined) {
      params.push(page.n);
      limit = `LIMIT $${params.length}`;
    }
    const rows = await this.db.query(`SELECT name FROM tags WHERE image_id = $1 ${after} ORDER BY name COLLATE "C" ${limit}`, params);
    return rows.map((r: { name: string }) => r.name);
  }

  /**
   * Each image's first `limit` tags after `after`, byte order, with the manifests they point at:
   * ordered by name, then by the image's place in `imageIds` (a virtual's resolution order).
   */
  async browse(imageIds: string[], page: { after?: string; limit: number }): Promise<TagSummaryRow[]> {
    if (imageIds.length === 0) return [];
    const params: unknown[] = [imageIds, page.limit];
    let after = '';
    if (page.after !== undefined) {
      params.push(boundWithoutNul(page.after));
      after = `AND t.name COLLATE "C" > $${params.length}`;
    }
    return this.db.query(
      `SELECT x.* FROM unnest($1::uuid[]) WITH ORDINALITY AS im(id, pos)
       CROSS JOIN LATERAL (
         SELECT t.name, t.image_id AS "imageId", m.digest, m.media_type AS "mediaType", m.size, t.updated_at AS "updatedAt"
         FROM tags t JOIN manifests m ON m.id = t.manifest_id
         WHERE t.image_id = im.id ${after}
         ORDER BY t.name COLLATE "C" LIMIT $2
       ) x
       ORDER BY x.name COLLATE "C", im.pos`,
      params,
    );
  }
}
