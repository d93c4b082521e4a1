import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { countRows } from './count-rows';

@Injectable()
export class BlobQueries {
  constructor(private readonly db: Db) {}

  /** The blob's size if the repository links it, else null. */
  async findLinked(repositoryId: string, digest: string): Promise<{ size: number } | null> {
    const rows = await this.db.query(`SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1 AND rb.digest = $2`, [
      repositoryId,
      digest,
    ]);
    return rows.length ? { size: Number(rows[0].size) } : null;
  }

  /** Of the given digests, those the repository links. */
  async linkedDigests(repositoryId: string, digests: string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows = await this.db.query(`SELECT digest FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2)`, [repositoryId, digests]);
    return new Set(rows.map((r: { digest: string }) => r.digest));
  }

  /** Records verified bytes (once per server) and links them into the repository, idempotently. */
  async recordAndLink(repositoryId: string, digest: string, size: number): Promise<void> {
    await this.db.query(
      `WITH blob AS (INSERT INTO blobs (digest, size) VALUES ($2, $3) ON CONFLICT (digest) DO NOTHING)
       INSERT INTO repository_blobs (repository_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [repositoryId, digest, size],
    );
  }

  async unlink(repositoryId: string, digest: string): Promise<boolean> {
    const result = await this.db.query(`DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2 RETURNING digest`, [repositoryId, digest]);
    return countRows(result) > 0;
  }
}
