import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PermissionEntity, PermissionPrincipals } from '../entities';

@Injectable()
export class PermissionQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(PermissionEntity);
  }

  list(): Promise<PermissionEntity[]> {
    return this.repo.find({ order: { name: 'ASC' } });
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
    return rows[0].created;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.repo.delete({ name });
    return (result.affected ?? 0) > 0;
  }
}
