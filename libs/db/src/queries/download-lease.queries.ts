import { Injectable } from '@nestjs/common';
import { Db } from '../db';

/** Leases on the upstream download of a remote repository's uncached blob (one host at a time). */
@Injectable()
export class DownloadLeaseQueries {
  constructor(private readonly db: Db) {}

  /** Takes the lease when nobody holds it or it has expired; true when `holder` has it now. */
  async acquire(repositoryId: string, digest: string, holder: string, ttlSeconds: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO remote_download_leases (repository_id, digest, holder, expires_at)
       VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))
       ON CONFLICT (repository_id, digest) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE remote_download_leases.expires_at < clock_timestamp() OR remote_download_leases.holder = excluded.holder
       RETURNING holder`,
      [repositoryId, digest, holder, ttlSeconds],
    );
    return rows.length > 0;
  }

  /** Whether `holder` holds the lease (a purge of the cache takes it away). */
  async isHeld(repositoryId: string, digest: string, holder: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM remote_download_leases WHERE repository_id = $1 AND digest = $2 AND holder = $3`, [repositoryId, digest, holder]);
    return rows.length > 0;
  }

  /** Whether a live lease is held by someone else. */
  async heldElsewhere(repositoryId: string, digest: string, holder: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM remote_download_leases WHERE repository_id = $1 AND digest = $2 AND holder <> $3 AND expires_at >= clock_timestamp()`, [
      repositoryId,
      digest,
      holder,
    ]);
    return rows.length > 0;
  }

  async renew(repositoryId: string, digest: string, holder: string, ttlSeconds: number): Promise<void> {
    await this.db.query(`UPDATE remote_download_leases SET expires_at = clock_timestamp() + make_interval(secs => $4) WHERE repository_id = $1 AND digest = $2 AND holder = $3`, [
      repositoryId,
      digest,
      holder,
      ttlSeconds,
    ]);
  }

  /**
   * Links the downloaded (and recorded) blob into the remote only while `holder` still holds the
   * lease, which it gives up: a purge of the cache since the download began took the lease away,
   * so the late download does not bring back what the purge removed (on any host).
   */
  async linkIfHeld(repositoryId: string, digest: string, holder: string): Promise<void> {
    await this.db.query(
      `WITH lease AS (DELETE FROM remote_download_leases WHERE repository_id = $1 AND digest = $2 AND holder = $3 RETURNING 1)
       INSERT INTO repository_blobs (repository_id, digest) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM lease)
       ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = now()`,
      [repositoryId, digest, holder],
    );
  }

  async release(repositoryId: string, digest: string, holder: string): Promise<void> {
    await this.db.query(`DELETE FROM remote_download_leases WHERE repository_id = $1 AND digest = $2 AND holder = $3`, [repositoryId, digest, holder]);
  }
}
