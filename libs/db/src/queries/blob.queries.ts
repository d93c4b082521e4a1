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

  /**
   * findLinked for a caller about to rely on the link: one older than `renewAfterSeconds` is
   * renewed first. Garbage collection holds a link it deletes, so the renewal either comes
   * first (and the link stays for another grace period) or finds it gone (null).
   */
  async findLinkedRenewing(repositoryId: string, digest: string, renewAfterSeconds: number): Promise<{ size: number } | null> {
    const rows = await this.db.query(
      `SELECT b.size, rb.created_at < now() - make_interval(secs => $3) AS old FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
       WHERE rb.repository_id = $1 AND rb.digest = $2`,
      [repositoryId, digest, renewAfterSeconds],
    );
    if (rows.length === 0) return null;
    if (rows[0].old) {
      const renewed = await this.db.query(`UPDATE repository_blobs SET created_at = now() WHERE repository_id = $1 AND digest = $2 RETURNING digest`, [repositoryId, digest]);
      if (countRows(renewed) === 0) return null;
    }
    return { size: Number(rows[0].size) };
  }

  /**
   * Of the given digests, those the repository links. Inside a transaction the links found stay
   * until it ends, so a manifest pushed with them refers to kept blobs: garbage collection takes
   * only links older than its grace period, so those younger than `holdOlderThanSeconds` (half
   * of it) are safe as found, and only older ones are locked (a lock writes the row: most
   * pushes name layers uploaded moments before, and lock nothing).
   */
  async linkedDigests(repositoryId: string, digests: string[], holdOlderThanSeconds: number): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows: Array<{ digest: string; old: boolean }> = await this.db.query(
      `SELECT digest, created_at < now() - make_interval(secs => $3) AS old FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2)`,
      [repositoryId, digests, holdOlderThanSeconds],
    );
    const linked = new Set(rows.filter((row) => !row.old).map((row) => row.digest));
    const old = rows.filter((row) => row.old).map((row) => row.digest);
    if (old.length > 0) {
      const held = await this.db.query(`SELECT digest FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2) FOR KEY SHARE`, [repositoryId, old]);
      for (const row of held as Array<{ digest: string }>) linked.add(row.digest);
    }
    return linked;
  }

  /**
   * Runs `work` (putting the blob's bytes at their digest path, linking it) in one transaction
   * that holds the blob's row, created if new. Garbage collection deletes a blob's bytes only
   * while holding the same row, with no link to it: so bytes found in place here stay, and bytes
   * collected just before are put back by `work`, which looks again once it holds the row.
   */
  async fenced(digest: string, size: number, work: () => Promise<void>): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.query(`INSERT INTO blobs (digest, size) VALUES ($1, $2) ON CONFLICT (digest) DO UPDATE SET size = excluded.size`, [digest, size]);
      await work();
    });
  }

  /**
   * Links a recorded blob into the repository; linking it again renews the link, so the grace
   * period of garbage collection starts over for a blob pushed again.
   */
  async link(repositoryId: string, digest: string): Promise<void> {
    await this.db.query(`INSERT INTO repository_blobs (repository_id, digest) VALUES ($1, $2) ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = now()`, [
      repositoryId,
      digest,
    ]);
  }

  /**
   * findLinked for a link about to be copied (a cross-repository mount): inside a transaction the
   * link is held until it ends, so garbage collection cannot take the blob in between.
   */
  async findLinkedHeld(repositoryId: string, digest: string): Promise<{ size: number } | null> {
    const rows = await this.db.query(
      `SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1 AND rb.digest = $2 FOR KEY SHARE OF rb`,
      [repositoryId, digest],
    );
    return rows.length ? { size: Number(rows[0].size) } : null;
  }

  async unlink(repositoryId: string, digest: string): Promise<boolean> {
    const result = await this.db.query(`DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2 RETURNING digest`, [repositoryId, digest]);
    return countRows(result) > 0;
  }
}
