import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { boundWithoutNul, couldBeStored } from './nul-free';

export interface Page {
  n?: number;
  last?: string;
}

/** A page of image names to browse: byte order, after `after`, names containing `contains` in any case. */
export interface BrowsePage {
  after?: string;
  contains?: string;
  limit: number;
}

/** One repository's image of a browsed name: how many tags it has and when it last changed. */
export interface ImageSummaryRow {
  name: string;
  repositoryId: string;
  imageId: string;
  tags: number;
  /** The latest tag change or manifest push. */
  updatedAt: Date;
}

@Injectable()
export class ImageQueries {
  constructor(private readonly db: Db) {}

  async findId(repositoryId: string, name: string): Promise<string | null> {
    const rows = await this.db.query(`SELECT id FROM images WHERE repository_id = $1 AND name = $2`, [repositoryId, name]);
    return rows[0]?.id ?? null;
  }

  /** The image's id in each of the repositories that has one, by repository id. */
  async findIds(repositoryIds: string[], name: string): Promise<Map<string, string>> {
    if (repositoryIds.length === 0 || !couldBeStored(name)) return new Map();
    const rows = await this.db.query(`SELECT repository_id, id FROM images WHERE repository_id = ANY($1::uuid[]) AND name = $2`, [repositoryIds, name]);
    return new Map(rows.map((row: { repository_id: string; id: string }) => [row.repository_id, row.id]));
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

  /**
   * A page of the names the repositories hold an image of (one with a manifest), in byte order,
   * each repository's image of them with its tag count and latest change. `more`: names may
   * follow; the next page starts after `last`, which the page may stop short of (then it holds
   * fewer than `limit` names, maybe none).
   *
   * Each repository reads a window of its first `limit + 1` names past `after` off the
   * (repository_id, name) index, so a page costs the same at 10 or 100,000 images; the names
   * every window covers are complete (the index in byte order is images_repository_name_bytes_idx,
   * whatever the database's collation).
   */
  async browse(repositoryIds: string[], page: BrowsePage): Promise<{ rows: ImageSummaryRow[]; more: boolean; last?: string }> {
    if (repositoryIds.length === 0 || (page.contains !== undefined && !couldBeStored(page.contains))) return { rows: [], more: false };
    const window = page.limit + 1;
    const pattern = page.contains ? `%${page.contains.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
    /** The conditions on `i` past `after`, their parameters appended to `params`. */
    const past = (params: unknown[], after?: string): string => {
      const conditions: string[] = [];
      if (after !== undefined) {
        params.push(boundWithoutNul(after));
        conditions.push(`AND i.name COLLATE "C" > $${params.length}`);
      }
      if (pattern) {
        params.push(pattern);
        conditions.push(`AND i.name ILIKE $${params.length}`);
      }
      return conditions.join(' ');
    };
    const params: unknown[] = [repositoryIds, window];
    const conditions = past(params, page.after);
    // Only the names in a window are checked for a manifest (an image whose manifests were all deleted stays a row), each
    // by one index probe: a LATERAL ... LIMIT 1, which the planner cannot turn into hashing every manifest as it may an EXISTS.
    const windows: Array<{ pos: string; name: string; held: boolean }> = await this.db.query(
      `SELECT r.pos, x.name, h.held IS NOT NULL AS held
       FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, pos)
       CROSS JOIN LATERAL (
         SELECT i.id, i.name FROM images i WHERE i.repository_id = r.id ${conditions}
         ORDER BY i.name COLLATE "C" LIMIT $2
       ) x
       LEFT JOIN LATERAL (SELECT true AS held FROM manifests m WHERE m.image_id = x.id LIMIT 1) h ON true`,
      params,
    );
    // Past the end of a full window that repository may hold more: only names up to the lowest such end are complete.
    const sizes = new Map<string, number>();
    const ends = new Map<string, string>();
    for (const row of windows) {
      sizes.set(row.pos, (sizes.get(row.pos) ?? 0) + 1);
      if (!ends.has(row.pos) || byteCompare(row.name, ends.get(row.pos)!) > 0) ends.set(row.pos, row.name);
    }
    const fullEnds = [...sizes].filter(([, size]) => size === window).map(([pos]) => ends.get(pos)!);
    const bound = fullEnds.sort(byteCompare)[0];
    const names = [...new Set(windows.filter((row) => row.held && (bound === undefined || byteCompare(row.name, bound) <= 0)).map((row) => row.name))].sort(byteCompare);
    const chosen = names.slice(0, page.limit);
    let more = names.length > page.limit || bound !== undefined;
    let last = names.length > page.limit ? chosen[chosen.length - 1] : bound;
    if (names.length === page.limit && bound !== undefined) {
      // A full page that names without a manifest cut short: whether any name follows, rather than an empty next page.
      const probeParams: unknown[] = [repositoryIds];
      const [probe] = await this.db.query(
        `SELECT EXISTS (
           SELECT 1 FROM images i WHERE i.repository_id = ANY($1::uuid[]) ${past(probeParams, bound)}
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = i.id)
         ) AS more`,
        probeParams,
      );
      more = probe.more;
      last = chosen[chosen.length - 1];
    }
    if (chosen.length === 0) return { rows: [], more, last };
    const rows: Array<ImageSummaryRow & { tags: string }> = await this.db.query(
      `SELECT i.name, i.repository_id AS "repositoryId", i.id AS "imageId", t.tags, greatest(t.updated, m.created) AS "updatedAt"
       FROM images i
       CROSS JOIN LATERAL (SELECT count(*) AS tags, max(updated_at) AS updated FROM tags WHERE image_id = i.id) t
       CROSS JOIN LATERAL (SELECT max(created_at) AS created FROM manifests WHERE image_id = i.id) m
       WHERE i.repository_id = ANY($1::uuid[]) AND i.name = ANY($2::varchar[]) AND m.created IS NOT NULL`,
      [repositoryIds, chosen],
    );
    const order = new Map(chosen.map((name, i) => [name, i]));
    rows.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    return { rows: rows.map((row) => ({ ...row, tags: Number(row.tags) })), more, last };
  }
}

/** Byte order of ASCII names (image names are ASCII): what COLLATE "C" sorts by. */
function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
