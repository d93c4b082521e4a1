import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { IsNull } from 'typeorm';
import { AccessTokenEntity } from '../entities';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';

export type NewAccessToken = Pick<AccessTokenEntity, 'name' | 'userId' | 'secretHash' | 'repositories' | 'actions' | 'expiresAt'>;

@Injectable()
export class AccessTokenQueries {
  // Bearer requests re-check the access token behind their JWT each time: kept in memory,
  // emptied on any security change (a revocation acts at once, on every instance).
  private readonly byId: ReadThroughCache<AccessTokenEntity | null>;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {
    this.byId = new ReadThroughCache(feed, ['security']);
  }

  private get repo() {
    return this.db.getRepository(AccessTokenEntity);
  }

  async create(token: NewAccessToken): Promise<AccessTokenEntity> {
    const created = await this.repo.save(this.repo.create(token));
    await this.feed.publish('security');
    return created;
  }

  findById(id: string): Promise<AccessTokenEntity | null> {
    return this.byId.get(id, () => this.repo.findOneBy({ id }));
  }

  list(userId?: string): Promise<AccessTokenEntity[]> {
    return this.repo.find({ where: userId ? { userId } : {}, order: { createdAt: 'ASC' } });
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    await this.feed.publish('security');
    return (result.affected ?? 0) > 0;
  }
}
