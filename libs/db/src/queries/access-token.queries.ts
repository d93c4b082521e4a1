import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { IsNull } from 'typeorm';
import { AccessTokenEntity } from '../entities';

export type NewAccessToken = Pick<AccessTokenEntity, 'name' | 'userId' | 'secretHash' | 'repositories' | 'actions' | 'expiresAt'>;

@Injectable()
export class AccessTokenQueries {
  constructor(private readonly db: Db) {}

  private get repo() {
    return this.db.getRepository(AccessTokenEntity);
  }

  async create(token: NewAccessToken): Promise<AccessTokenEntity> {
    return this.repo.save(this.repo.create(token));
  }

  findById(id: string): Promise<AccessTokenEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(userId?: string): Promise<AccessTokenEntity[]> {
    return this.repo.find({ where: userId ? { userId } : {}, order: { createdAt: 'ASC' } });
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}
