import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { PermissionEntity, PermissionPrincipals } from '../entities';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';

@Injectable()
export class PermissionQueries {
  // Every authorization reads all rules: keep them in memory, invalidated by the feed.
  private readonly all: ReadThroughCache<PermissionEntity[]>;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {
    this.all = new ReadThroughCache(feed, ['security'], 1);
  }

  private get repo() {
    return this.db.getRepository(PermissionEntity);
  }

  list(): Promise<PermissionEntity[]> {
    return this.all.get('', () => this.repo.find({ order: { name: 'ASC' } }));
  }

  findByName(name: string): Promise<PermissionEntity | null> {
    return this.repo.findOneBy({ name });
  }

  /** Creates or replaces the named permission; returns whether it was created. */
  async upsert(name: string, repositories: string[], principals: PermissionPrincipals): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO permissions (name, repositories, principals) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET repositories = EXCLUDED.repositories, principals = EXCLUDED.principals, updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [name, repositories, JSON.stringify(principals)],
    );
    await this.feed.publish('security');
    return rows[0].created;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.repo.delete({ name });
    await this.feed.publish('security');
    return (result.affected ?? 0) > 0;
  }
}
