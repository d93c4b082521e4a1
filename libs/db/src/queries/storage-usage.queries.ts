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

/** Any fixed key ("WharfUse"): one folder of usage deltas at a time. */
const FOLD_LOCK = 0x5768617266557365n.toString();
const FOLD_BATCH = 5000;

/** Storage use as the usage tables keep it (migration StorageUsage): a few rows, never a sum over every blob. */
@Injectable()
export class StorageUsageQueries {
  constructor(private readonly db: Db) {}

  /** Per repository: its images, manifests and tags, and the blobs it links with their bytes. */
  async repositories(): Promise<RepositoryUsageRow[]> {
    const rows = await this.db.query(
      `SELECT r.key, r.rclass, (r.settings->>'quotaBytes')::bigint AS "quotaBytes", u.blobs, u.bytes, u.unique_bytes AS "uniqueBytes",
         (SELECT count(*) FROM images i WHERE i.repository_id = r.id) AS images,
         (SELECT count(*) FROM manifests m JOIN images i ON i.id = m.image_id WHERE i.repository_id = r.id) AS manifests,
         (SELECT count(*) FROM tags t JOIN images i ON i.id = t.image_id WHERE i.repository_id = r.id) AS tags
       FROM repositories r JOIN repository_usage u ON u.repository_id = r.id
       ORDER BY r.key`,
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

  /**
   * Per repository of `repositoryIds`: its images and the bytes of the blobs it links, each once,
   * as of the last fold (every 15 seconds). Images are counted as rows, on the (repository_id,
   * name) index alone: an image whose manifests were all deleted counts until it is deleted.
   */
  async summaries(repositoryIds: string[]): Promise<Map<string, { images: number; bytes: number }>> {
    if (repositoryIds.length === 0) return new Map();
    const rows = await this.db.query(
      `SELECT u.repository_id AS id, u.bytes, (SELECT count(*) FROM images i WHERE i.repository_id = u.repository_id) AS images
       FROM repository_usage u WHERE u.repository_id = ANY($1::uuid[])`,
      [repositoryIds],
    );
    return new Map(rows.map((row: Record<string, string>) => [row.id, { images: Number(row.images), bytes: Number(row.bytes) }]));
  }

  /**
   * Folds the changes pushes and deletions recorded into the counters. `wait`: behind a fold
   * running elsewhere (then the counters include everything committed before this call);
   * otherwise a fold already running is enough.
   */
  async fold(wait: boolean): Promise<void> {
    await this.db.transaction(async () => {
      if (wait) await this.db.query(`SELECT pg_advisory_xact_lock($1)`, [FOLD_LOCK]);
      else if (!(await this.db.query(`SELECT pg_try_advisory_xact_lock($1) AS got`, [FOLD_LOCK]))[0].got) return;
      while ((await this.db.query(`SELECT fold_usage($1) AS n`, [FOLD_BATCH]))[0].n === FOLD_BATCH);
    });
  }

  /** Blobs stored once each, their bytes, and the bytes counted once per repository that links them. */
  async totals(): Promise<{ blobs: number; bytes: number; bytesWithoutDedup: number }> {
    const [stored] = await this.db.query(`SELECT blobs, bytes FROM storage_totals`);
    const [linked] = await this.db.query(`SELECT coalesce(sum(bytes), 0) AS bytes FROM repository_usage`);
    return { blobs: Number(stored.blobs), bytes: Number(stored.bytes), bytesWithoutDedup: Number(linked.bytes) };
  }

  /** The bytes of the blobs these manifests reference that the repository does not link yet (each once). */
  async bytesNewTo(repositoryId: string, manifestIds: string[]): Promise<number> {
    const [row] = await this.db.query(
      `SELECT coalesce(sum(b.size), 0) AS bytes FROM blobs b
       WHERE b.digest IN (SELECT r.digest FROM manifest_references r WHERE r.manifest_id = ANY($2::uuid[]) AND r.kind = 'blob')
         AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.repository_id = $1 AND rb.digest = b.digest)`,
      [repositoryId, manifestIds],
    );
    return Number(row.bytes);
  }

  /**
   * The bytes the repository's blobs take, held until the transaction ends: pushes into a
   * repository with a quota check and add one after another, so two cannot both squeeze in.
   */
  async lockedBytes(repositoryId: string): Promise<number> {
    const rows = await this.db.query(`SELECT bytes FROM repository_usage WHERE repository_id = $1 FOR UPDATE`, [repositoryId]);
    // A new statement: it sees the changes of pushes that held the row before and committed.
    const [pending] = await this.db.query(`SELECT coalesce(sum(delta * size), 0) AS bytes FROM usage_deltas WHERE repository_id = $1`, [repositoryId]);
    return (rows.length ? Number(rows[0].bytes) : 0) + Number(pending.bytes);
  }
}
