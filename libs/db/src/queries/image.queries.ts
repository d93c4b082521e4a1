import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { boundWithoutNul } from './nul-free';

export interface Page {
  n?: number;
  last?: string;
}

@Injectable()
export class ImageQueries {
  constructor(private readonly db: Db) {}

  async findId(repositoryId: string, name: string): Promise<string | null> {
    const rows = await this.db.query(`SELECT id FROM images WHERE repository_id = $1 AND name = $2`, [repositoryId, name]);
    return rows[0]?.id ?? null;
  }

  /** Returns the image's id, creating the row if needed (safe under concurrency). */
  async ensure(repositoryId: string, name: string): Promise<string> {
    const rows = await this.db.query(
      `INSERT INTO images (repository_id, name) VALUES ($1, $2)
       ON CONFLICT (repository_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [repositoryId, name],
    );
    return rows[0].id;
  }

  /**
   * Names of images that hold at least one manifest, in byte order (COLLATE "C", as the
   * spec's lexical order demands), as `<prefix><name>`. `repositoryId` null: all repositories,
   * prefixed with their key.
   */
  async catalog(repositoryId: string | null, page: Page, repositoryKeys?: string[]): Promise<string[]> {
    const params: unknown[] = [];
    const conditions = ['EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = i.id)'];
    if (repositoryKeys) {
      params.push(repositoryKeys);
      conditions.push(`r.key = ANY($${params.length})`);
    }
    const nameExpr = repositoryId ? 'i.name' : `r.key || '/' || i.name`;
    if (repositoryId) {
      params.push(repositoryId);
      conditions.push(`i.repository_id = $${params.length}`);
    }
    if (page.last !== undefined) {
      params.push(boundWithoutNul(page.last));
      conditions.push(`(${nameExpr}) COLLATE "C" > $${params.length}`);
    }
    let limit = '';
    if (page.n !== undefined) {
      params.push(page.n);
      limit = `LIMIT $${params.length}`;
    }
    const rows = await this.db.query(
      `SELECT ${nameExpr} AS name FROM images i JOIN repositories r ON r.id = i.repository_id
       WHERE ${conditions.join(' AND ')} ORDER BY (${nameExpr}) COLLATE "C" ${limit}`,
      params,
    );
    return rows.map((r: { name: string }) => r.name);
  }
}
