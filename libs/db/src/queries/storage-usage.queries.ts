import { Injectable } from '@nestjs/common';
import { Db } from '../db';

export interface RepositoryUsageRow {
  key: string;
  rclass: string;
  images: number;
  manifests: number;
  tags: number;
  blobs: number;
  bytes: number;
  uniqueBytes: number;
  /** A local repository's quota, when it has one. */
  quotaBytes?: number;
}

/** Storage use as the usage tables keep it (migration StorageUsage): a few rows, never a sum over every blob. */
@Injectable()
export class StorageUsageQueries {
  constructor(private readonly db: Db) {}

  /** Per repository (of `ids`, or all): its images, manifests and tags, and the blobs it links with their bytes. */
  async repositories(ids?: string[]): Promise<RepositoryUsageRow[]> {
    const rows = await this.db.query(
      `SELECT r.key, r.rclass, (r.settings->>'quotaBytes')::bigint AS "quotaBytes", u.blobs, u.bytes, u.unique_bytes AS "uniqueBytes",
         (SELECT count(*) FROM images i WHERE i.repository_id = r.id) AS images,
         (SELECT count(*) FROM manifests m JOIN images i ON i.id = m.image_id WHERE i.repository_id = r.id) AS manifests,
         (SELECT count(*) FROM tags t JOIN images i ON i.id = t.image_id WHERE i.repository_id = r.id) AS tags
       FROM repositories r JOIN repository_usage u ON u.repository_id = r.id
       WHERE $1::uuid[] IS NULL OR r.id = ANY($1::uuid[])
       ORDER BY r.key`,
      [ids ?? null],
    );
    return rows.map((row: Record<string, string>) => ({
      key: row.key,
      rclass: row.rclass,
      images: Number(row.images),
      manifests: Number(row.manifests),
      tags: Number(row.tags),
      blobs: Number(row.blobs),
      bytes: Number(row.bytes),
      uniqueBytes: Number(row.uniqueBytes),
      ...(Number(row.quotaBytes) > 0 ? { quotaBytes: Number(row.quotaBytes) } : {}),
    }));
  }

  /** Blobs stored once each, their bytes, and the bytes counted once per repository that links them. */
  async totals(): Promise<{ blobs: number; bytes: number; bytesWithoutDedup: number }> {
    const [stored] = await this.db.query(`SELECT coalesce(sum(blobs), 0) AS blobs, coalesce(sum(bytes), 0) AS bytes FROM storage_totals`);
    const [linked] = await this.db.query(`SELECT coalesce(sum(bytes), 0) AS bytes FROM repository_usage`);
    return { blobs: Number(stored.blobs), bytes: Number(stored.bytes), bytesWithoutDedup: Number(linked.bytes) };
  }

  /**
   * The bytes the repository's blobs take, held until the transaction ends: pushes into a
   * repository with a quota check and add one after another, so two cannot both squeeze in.
   */
  async lockedBytes(repositoryId: string): Promise<number> {
    const rows = await this.db.query(`SELECT bytes FROM repository_usage WHERE repository_id = $1 FOR UPDATE`, [repositoryId]);
    return rows.length ? Number(rows[0].bytes) : 0;
  }
}
