import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { returnedRows } from './count-rows';

export type GcTrigger = 'schedule' | 'api';
export type GcStatus = 'running' | 'finished' | 'failed' | 'abandoned';

export interface GcRunRow {
  id: string;
  trigger: GcTrigger;
  dryRun: boolean;
  status: GcStatus;
  requestedBy: string | null;
  host: string;
  phase: string | null;
  result: Record<string, unknown>;
  error: string | null;
  startedAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
}

/** A count of things with their bytes. */
export interface Freed {
  count: number;
  bytes: number;
}

/**
 * A blob link garbage collection may take: in a local repository, older than the grace period,
 * and referenced by no manifest of that repository. (A remote's links are its cache, which has
 * rules of its own.) `rb` is the link, `$1` the grace in seconds.
 */
const COLLECTABLE_LINK = `
  rb.created_at < now() - make_interval(secs => $1)
  AND EXISTS (SELECT 1 FROM repositories r WHERE r.id = rb.repository_id AND r.rclass = 'local')
  AND NOT EXISTS (
    SELECT 1 FROM manifest_references mr
    JOIN manifests m ON m.id = mr.manifest_id
    JOIN images i ON i.id = m.image_id
    WHERE mr.kind = 'blob' AND mr.digest = rb.digest AND i.repository_id = rb.repository_id
  )`;

const RUN_COLUMNS = `id, trigger, dry_run AS "dryRun", status, requested_by AS "requestedBy", host, phase, result, error,
  started_at AS "startedAt", heartbeat_at AS "heartbeatAt", finished_at AS "finishedAt"`;

/**
 * Garbage collection's reads and writes. The sweeps that delete work in batches, each its own
 * transaction, and lock what they delete (skipping rows a push holds right now): see
 * `collectLinks` and `collectBlobs` for why a concurrent push never loses a blob.
 */
@Injectable()
export class GcQueries {
  constructor(private readonly db: Db) {}

  /**
   * Starts a run unless one is running (on any host); a run whose heartbeat is older than
   * `staleSeconds` is marked abandoned first (its host died). Null when another run is live.
   */
  async startRun(run: { trigger: GcTrigger; dryRun: boolean; host: string; requestedBy?: string }, staleSeconds: number): Promise<GcRunRow | null> {
    return this.db.transaction(async () => {
      await this.db.query(
        `UPDATE gc_runs SET status = 'abandoned', finished_at = now(), error = 'its host went silent while it ran; the next run finishes the work'
         WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)`,
        [staleSeconds],
      );
      const rows = await this.db.query(
        `INSERT INTO gc_runs (trigger, dry_run, status, host, requested_by) VALUES ($1, $2, 'running', $3, $4)
         ON CONFLICT DO NOTHING RETURNING ${RUN_COLUMNS}`,
        [run.trigger, run.dryRun, run.host, run.requestedBy ?? null],
      );
      return rows[0] ?? null;
    });
  }

  /** Marks a run whose process is known to be gone. */
  async abandon(id: string): Promise<void> {
    await this.db.query(
      `UPDATE gc_runs SET status = 'abandoned', finished_at = now(), error = 'its process ended while it ran; the next run finishes the work' WHERE id = $1 AND status = 'running'`,
      [id],
    );
  }

  /** Records progress (and that the run's host is alive). */
  async progress(id: string, phase: string, result: object): Promise<void> {
    await this.db.query(`UPDATE gc_runs SET phase = $2, result = $3, heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [id, phase, JSON.stringify(result)]);
  }

  async finish(id: string, status: 'finished' | 'failed', result: object, error?: string): Promise<void> {
    await this.db.query(`UPDATE gc_runs SET status = $2, result = $3, error = $4, phase = NULL, finished_at = now() WHERE id = $1`, [
      id,
      status,
      JSON.stringify(result),
      error ?? null,
    ]);
  }

  /** The most recent runs, newest first. */
  async recentRuns(limit: number): Promise<GcRunRow[]> {
    return this.db.query(`SELECT ${RUN_COLUMNS} FROM gc_runs ORDER BY started_at DESC LIMIT $1`, [limit]);
  }

  async run(id: string): Promise<GcRunRow | null> {
    return (await this.db.query(`SELECT ${RUN_COLUMNS} FROM gc_runs WHERE id = $1`, [id]))[0] ?? null;
  }

  /** When the last scheduled run started, if any. */
  async lastScheduledStart(): Promise<Date | null> {
    const rows = await this.db.query(`SELECT max(started_at) AS at FROM gc_runs WHERE trigger = 'schedule'`);
    return rows[0].at ?? null;
  }

  // --- upload sessions -------------------------------------------------------------------

  /** Deletes up to `limit` upload sessions idle longer than `maxIdleSeconds`; their ids. */
  async collectExpiredUploadSessions(maxIdleSeconds: number, limit: number): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.db.query(
        `DELETE FROM upload_sessions WHERE id IN (
           SELECT id FROM upload_sessions WHERE updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
         ) RETURNING id`,
        [maxIdleSeconds, limit],
      ),
    );
    return rows.map((row) => row.id);
  }

  async countExpiredUploadSessions(maxIdleSeconds: number): Promise<number> {
    const rows = await this.db.query(`SELECT count(*)::int AS n FROM upload_sessions WHERE updated_at < now() - make_interval(secs => $1)`, [maxIdleSeconds]);
    return rows[0].n;
  }

  /** Of these upload ids, those with a session. */
  async liveUploadIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.query(`SELECT id::text FROM upload_sessions WHERE id::text = ANY($1)`, [ids]);
    return new Set(rows.map((row: { id: string }) => row.id));
  }

  // --- blob links ------------------------------------------------------------------------

  /** What `collectLinks` would take now. */
  async countCollectableLinks(graceSeconds: number): Promise<number> {
    const rows = await this.db.query(`SELECT count(*)::int AS n FROM repository_blobs rb WHERE ${COLLECTABLE_LINK}`, [graceSeconds]);
    return rows[0].n;
  }

  /**
   * Deletes up to `limit` collectable links; the number deleted. The candidates are locked first
   * (skipping links a manifest push holds: it reads the links it needs FOR KEY SHARE inside its
   * transaction), then a new statement, which sees every push committed meanwhile, checks them
   * again and deletes. So a manifest either committed first (its references keep the link) or
   * waits and then finds the link gone (MANIFEST_BLOB_UNKNOWN): never a manifest whose blob goes.
   */
  async collectLinks(graceSeconds: number, limit: number): Promise<number> {
    return this.db.transaction(async () => {
      const locked = await this.db.query(`SELECT rb.repository_id, rb.digest FROM repository_blobs rb WHERE ${COLLECTABLE_LINK} LIMIT $2 FOR UPDATE OF rb SKIP LOCKED`, [
        graceSeconds,
        limit,
      ]);
      if (locked.length === 0) return 0;
      const deleted = returnedRows(
        await this.db.query(
          `DELETE FROM repository_blobs rb USING unnest($2::uuid[], $3::text[]) AS c(repository_id, digest)
         WHERE rb.repository_id = c.repository_id AND rb.digest = c.digest AND ${COLLECTABLE_LINK}
         RETURNING rb.digest`,
          [graceSeconds, locked.map((row: { repository_id: string }) => row.repository_id), locked.map((row: { digest: string }) => row.digest)],
        ),
      );
      return deleted.length;
    });
  }

  // --- blobs -----------------------------------------------------------------------------

  /** The blobs no link holds once the collectable links are gone: what a run would free. */
  async countCollectableBlobs(graceSeconds: number): Promise<Freed> {
    const rows = await this.db.query(
      `SELECT count(*)::int AS n, coalesce(sum(b.size), 0)::bigint AS bytes FROM blobs b
       WHERE NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND NOT (${COLLECTABLE_LINK}))`,
      [graceSeconds],
    );
    return { count: rows[0].n, bytes: Number(rows[0].bytes) };
  }

  /**
   * Deletes up to `limit` blobs that no repository links, rows and bytes (`deleteBytes`, called
   * inside the transaction while the rows are locked); what it freed. A push that stores a blob
   * holds the blob's row from before it looks for the bytes until its link is committed
   * (BlobQueries.fenced), and a mount or promotion's new link holds it too (the foreign key):
   * rows held are skipped here; a push that comes after waits for this transaction, then finds
   * the bytes gone and puts its own in place. The rows go before the bytes: if the delete failed
   * (a link appeared), no bytes are touched; if the bytes go and the commit does not, the row
   * stays without bytes and without links, which the next push of that blob repairs and the
   * next run removes.
   */
  async collectBlobs(limit: number, deleteBytes: (digests: string[]) => Promise<void>): Promise<Freed> {
    return this.db.transaction(async () => {
      const locked = await this.db.query(
        `SELECT b.digest FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest) LIMIT $1 FOR UPDATE OF b SKIP LOCKED`,
        [limit],
      );
      if (locked.length === 0) return { count: 0, bytes: 0 };
      const deleted = returnedRows<{ digest: string; size: string }>(
        await this.db.query(
          `DELETE FROM blobs b WHERE b.digest = ANY($1) AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest) RETURNING b.digest, b.size`,
          [locked.map((row: { digest: string }) => row.digest)],
        ),
      );
      await deleteBytes(deleted.map((row) => row.digest));
      return { count: deleted.length, bytes: deleted.reduce((sum, row) => sum + Number(row.size), 0) };
    });
  }
}
