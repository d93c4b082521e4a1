import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RepositoryClass, RepositoryEntity } from '../entities';
import { countRows } from './count-rows';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';

@Injectable()
export class RepositoryQueries {
  // Every registry request resolves its repository: keep them in memory, invalidated by the feed.
  private readonly byKey: ReadThroughCache<RepositoryEntity | null>;
  private readonly lists: ReadThroughCache<RepositoryEntity[]>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly feed: ChangeFeed,
  ) {
    this.byKey = new ReadThroughCache(feed, ['repositories']);
    this.lists = new ReadThroughCache(feed, ['repositories'], 8);
  }

  private get repo() {
    return this.db.getRepository(RepositoryEntity);
  }

  findByKey(key: string): Promise<RepositoryEntity | null> {
    return this.byKey.get(key, () => this.repo.findOneBy({ key }));
  }

  list(rclass?: RepositoryClass): Promise<RepositoryEntity[]> {
    return this.lists.get(rclass ?? '', () => this.repo.find({ where: rclass ? { rclass } : {}, order: { key: 'ASC' } }));
  }

  /** Inserts a new repository; returns null when the key is taken. */
  async create(
    values: Pick<RepositoryEntity, 'key' | 'rclass' | 'packageType' | 'description' | 'anonymousRead' | 'settings'>,
  ): Promise<RepositoryEntity | null> {
    const rows = await this.db.query(
      `INSERT INTO repositories (key, rclass, package_type, description, anonymous_read, settings)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING id`,
      [values.key, values.rclass, values.packageType, values.description, values.anonymousRead, JSON.stringify(values.settings)],
    );
    await this.feed.publish('repositories');
    return rows.length ? this.findByKey(values.key) : null;
  }

  async update(id: string, values: Pick<RepositoryEntity, 'description' | 'anonymousRead' | 'settings'>): Promise<void> {
    await this.db.query(
      `UPDATE repositories SET description = $2, anonymous_read = $3, settings = $4, updated_at = now() WHERE id = $1`,
      [id, values.description, values.anonymousRead, JSON.stringify(values.settings)],
    );
    await this.feed.publish('repositories');
  }

  /**
   * Forgets cached content of a remote repository: one image's manifests and tags, or, for the
   * whole repository, every image and blob link. The bytes stay for garbage collection.
   */
  async purgeCache(id: string, image?: string): Promise<number> {
    const removed =
      image !== undefined
        ? countRows(await this.db.query(`DELETE FROM images WHERE repository_id = $1 AND name = $2 RETURNING id`, [id, image]))
        : await this.db.transaction(async (manager) => {
            const images = await manager.query(`DELETE FROM images WHERE repository_id = $1 RETURNING id`, [id]);
            await manager.query(`DELETE FROM repository_blobs WHERE repository_id = $1`, [id]);
            return countRows(images);
          });
    await this.feed.publish('tags');
    return removed;
  }

  /** Removes the repository; its images, manifests, tags, links and uploads go with it (cascade). */
  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
    await this.feed.publish('repositories');
    await this.feed.publish('tags');
  }
}
