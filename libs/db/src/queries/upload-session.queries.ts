import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { UploadSessionEntity } from '../entities';
import { countRows } from './count-rows';

@Injectable()
export class UploadSessionQueries {
  constructor(private readonly db: Db) {}

  async create(id: string, repositoryId: string, imageName: string): Promise<void> {
    await this.db.query(`INSERT INTO upload_sessions (id, repository_id, image_name) VALUES ($1, $2, $3)`, [id, repositoryId, imageName]);
  }

  find(id: string): Promise<UploadSessionEntity | null> {
    return this.db.getRepository(UploadSessionEntity).findOneBy({ id });
  }

  /**
   * Moves the recorded size from the size the caller saw (no lost updates): forward after an
   * append, back when acknowledged bytes turn out lost from disk.
   */
  async advance(id: string, from: number, to: number): Promise<boolean> {
    const result = await this.db.query(`UPDATE upload_sessions SET size = $3, updated_at = now() WHERE id = $1 AND size = $2 RETURNING id`, [id, from, to]);
    return countRows(result) > 0;
  }

  /** Upload sessions begun and not yet committed, cancelled or collected, on every host. */
  async countOpen(): Promise<number> {
    const rows: Array<{ n: number }> = await this.db.query(`SELECT count(*)::int AS n FROM upload_sessions`);
    return rows[0]?.n ?? 0;
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM upload_sessions WHERE id = $1`, [id]);
  }
}
