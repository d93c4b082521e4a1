import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { UserEntity } from '../entities';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';
import { couldBeStored } from './nul-free';

export type NewUser = Pick<UserEntity, 'username' | 'passwordHash' | 'email' | 'admin' | 'disabled'>;

@Injectable()
export class UserQueries {
  // Credentials are checked on every request: the user and its groups stay in memory,
  // invalidated by the feed on any security change (a new password takes effect at once).
  private readonly byUsername: ReadThroughCache<UserEntity | null>;
  private readonly byId: ReadThroughCache<UserEntity | null>;
  private readonly groupsByUser: ReadThroughCache<string[]>;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {
    this.byUsername = new ReadThroughCache(feed, ['security']);
    this.byId = new ReadThroughCache(feed, ['security']);
    this.groupsByUser = new ReadThroughCache(feed, ['security']);
  }

  private get repo() {
    return this.db.getRepository(UserEntity);
  }

  findByUsername(username: string): Promise<UserEntity | null> {
    // Logins bring names straight from clients (Basic credentials, the token form).
    if (!couldBeStored(username)) return Promise.resolve(null);
    return this.byUsername.get(username, () => this.repo.findOneBy({ username }));
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.byId.get(id, () => this.repo.findOneBy({ id }));
  }

  list(): Promise<UserEntity[]> {
    return this.repo.find({ order: { username: 'ASC' } });
  }

  /** Inserts a user; returns null when the name is taken. */
  async create(user: NewUser): Promise<UserEntity | null> {
    const rows = await this.db.query(
      `INSERT INTO users (username, password_hash, email, admin, disabled) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (username) DO NOTHING RETURNING id`,
      [user.username, user.passwordHash, user.email, user.admin, user.disabled],
    );
    await this.feed.publish('security');
    return rows.length ? this.findById(rows[0].id) : null;
  }

  async update(id: string, values: Partial<Pick<UserEntity, 'passwordHash' | 'email' | 'admin' | 'disabled'>>): Promise<void> {
    if (Object.keys(values).length === 0) return;
    await this.repo.update({ id }, values);
    await this.feed.publish('security');
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
    await this.feed.publish('security');
  }

  /**
   * Deletes the user and takes its name out of every permission, in one transaction:
   * permissions name principals, so a later user of the same name must not inherit the grants.
   */
  async deleteWithGrants(id: string, username: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query(`DELETE FROM users WHERE id = $1`, [id]);
      await manager.query(
        `UPDATE permissions SET principals = jsonb_set(principals, '{users}', (principals->'users') - $1::text), updated_at = now()
         WHERE principals->'users'->$1::text IS NOT NULL`,
        [username],
      );
    });
    await this.feed.publish('security');
  }

  /** The subset of `names` that are users. */
  async existingUsernames(names: string[]): Promise<string[]> {
    const rows = await this.db.query(`SELECT username FROM users WHERE username = ANY($1)`, [names]);
    return rows.map((r: { username: string }) => r.username);
  }

  /** Every user's group names, by user id, in one query (for listings). */
  async groupNamesByUser(): Promise<Map<string, string[]>> {
    const rows: Array<{ user_id: string; name: string }> = await this.db.query(`SELECT ug.user_id, g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id ORDER BY g.name`);
    const byUser = new Map<string, string[]>();
    for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.name]);
    return byUser;
  }

  groupNames(userId: string): Promise<string[]> {
    return this.groupsByUser.get(userId, async () => {
      const rows = await this.db.query(`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1 ORDER BY g.name`, [userId]);
      return rows.map((r: { name: string }) => r.name);
    });
  }

  /** Replaces the user's groups; returns the names that name no group. */
  async setGroups(userId: string, names: string[]): Promise<string[]> {
    const unknown = await this.db.transaction(async (manager) => {
      const groups: Array<{ id: string; name: string }> = await manager.query(`SELECT id, name FROM groups WHERE name = ANY($1)`, [names]);
      const unknown = names.filter((n) => !groups.some((g) => g.name === n));
      if (unknown.length) return unknown;
      await manager.query(`DELETE FROM user_groups WHERE user_id = $1`, [userId]);
      if (groups.length) {
        await manager.query(`INSERT INTO user_groups (user_id, group_id) SELECT $1, unnest($2::uuid[])`, [userId, groups.map((g) => g.id)]);
      }
      return [];
    });
    await this.feed.publish('security');
    return unknown;
  }
}
