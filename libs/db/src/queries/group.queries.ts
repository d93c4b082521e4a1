import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupEntity } from '../entities';

@Injectable()
export class GroupQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(GroupEntity);
  }

  findByName(name: string): Promise<GroupEntity | null> {
    return this.repo.findOneBy({ name });
  }

  list(): Promise<GroupEntity[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  /** Inserts a group; returns null when the name is taken. */
  async create(name: string, description: string): Promise<GroupEntity | null> {
    const rows = await this.db.query(`INSERT INTO groups (name, description) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`, [
      name,
      description,
    ]);
    return rows.length ? this.findByName(name) : null;
  }

  async update(id: string, description: string): Promise<void> {
    await this.repo.update({ id }, { description });
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  async memberNames(groupId: string): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT u.username FROM user_groups ug JOIN users u ON u.id = ug.user_id WHERE ug.group_id = $1 ORDER BY u.username`,
      [groupId],
    );
    return rows.map((r: { username: string }) => r.username);
  }
}
