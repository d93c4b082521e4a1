import { Injectable } from '@nestjs/common';
import { Db } from '../db';

export interface UiSessionRow {
  id: string;
  username: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Web UI sessions (ui_sessions), found by the hash of their cookie's secret. */
@Injectable()
export class UiSessionQueries {
  constructor(private readonly db: Db) {}

  async create(secretHash: string, userId: string, csrfToken: string, ttlSeconds: number): Promise<{ id: string; expiresAt: Date }> {
    // Expired sessions of anyone go as new ones come: the table stays the size of those in use.
    await this.db.query(`DELETE FROM ui_sessions WHERE expires_at < now()`);
    const [row] = await this.db.query(
      `INSERT INTO ui_sessions (secret_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id, expires_at AS "expiresAt"`,
      [secretHash, userId, csrfToken, ttlSeconds],
    );
    return row;
  }

  /** The live session with this secret hash, and its user's name. */
  async find(secretHash: string): Promise<UiSessionRow | null> {
    const rows = await this.db.query(
      `SELECT s.id, u.username, s.csrf_token AS "csrfToken", s.expires_at AS "expiresAt" FROM ui_sessions s JOIN users u ON u.id = s.user_id
       WHERE s.secret_hash = $1 AND s.expires_at > now()`,
      [secretHash],
    );
    return rows[0] ?? null;
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ui_sessions WHERE id = $1`, [id]);
  }
}
