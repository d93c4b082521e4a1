import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { GroupEntity } from '../entities';
import { ChangeFeed } from '../change-feed';

@Injectable()
export class GroupQueries {
  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {}

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
    const rows = await this.db.query(`INSERT INTO groups (name, description) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`, [name, description]);
    await this.feed.publish('security');
    return rows.length ? this.findByName(name) : null;
  }

  async update(id: string, description: string): Promise<void> {
    await this.repo.update({ id }, { description });
    await this.feed.publish('security');
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
    await this.feed.publish('security');
  }

  /**
   * Deletes the group (memberships cascade) and takes its name out of every permission, in one
   * transaction: permissions name principals, so a later group of the same name must not inherit the grants.
   */
  async deleteWithGrants(id: string, name: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query(`DELETE FROM groups WHERE id = $1`, [id]);
      await manager.query(
        `UPDATE permissions SET principals = jsonb_set(principals, '{groups}', (principals->'groups') - $1::text), updated_at = now()
         WHERE principals->'groups'->$1::text IS NOT NULL`,
        [name],
      );
    });
    await this.feed.publish('security');
  }

  /** The subset of `names` that are groups. */
  async existingNames(names: string[]): Promise<string[]> {
    const rows = await this.db.query(`SELECT name FROM groups WHERE name = ANY($1)`, [names]);
    return rows.map((r: { name: string }) => r.name);
  }

  /** Every group's member names, by group id, in one query (for listings). */
  async memberNamesByGroup(): Promise<Map<string, string[]>> {
    const rows: Array<{ group_id: string; username: string }> = await this.db.query(
      `SELECT ug.group_id, u.username FROM user_groups ug JOIN users u ON u.id = ug.user_id ORDER BY u.username`,
    );
    const byGroup = new Map<string, string[]>();
    for (const row of rows) byGroup.set(row.group_id, [...(byGroup.get(row.group_id) ?? []), row.username]);
    return byGroup;
  }

  async memberNames(groupId: string): Promise<string[]> {
    const rows = await this.db.query(`SELECT u.username FROM user_groups ug JOIN users u ON u.id = ug.user_id WHERE ug.group_id = $1 ORDER BY u.username`, [groupId]);
    return rows.map((r: { username: string }) => r.username);
  }
}
