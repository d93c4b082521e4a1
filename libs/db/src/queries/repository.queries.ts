import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { EntityManager } from 'typeorm';
import { RepositoryClass, RepositoryEntity } from '../entities';
import { countRows } from './count-rows';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';

/** Every repository and every virtual's members, as one consistent picture. */
export interface RepositoryGraph {
  repositories: Array<Pick<RepositoryEntity, 'id' | 'key' | 'rclass' | 'defaultDeploymentRepositoryId'>>;
  /** Virtual id -> member ids in resolution order. */
  members: Map<string, string[]>;
}

/** A virtual's member rows and deployment target, as they are to be stored. */
export interface VirtualLinks {
  memberIds: string[];
  deploymentId: string | null;
}

/**
 * Decides a virtual's links from the graph as it stands inside the writing transaction (the
 * repository itself already written); throws to refuse, which rolls everything back.
 */
export type LinksPlanner = (graph: RepositoryGraph, self: { id: string; key: string }) => VirtualLinks;

// Changes to virtual members take turns, so two concurrent changes cannot together make a cycle.
const TOPOLOGY_LOCK = 'wharf:virtual-topology';

@Injectable()
export class RepositoryQueries {
  // Every registry request resolves its repository: keep them in memory, invalidated by the feed.
  private readonly byKey: ReadThroughCache<RepositoryEntity | null>;
  private readonly lists: ReadThroughCache<RepositoryEntity[]>;
  private readonly memberships: ReadThroughCache<Map<string, string[]>>;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {
    this.byKey = new ReadThroughCache(feed, ['repositories']);
    this.lists = new ReadThroughCache(feed, ['repositories'], 8);
    this.memberships = new ReadThroughCache(feed, ['repositories'], 1);
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

  /** Every virtual's member ids in resolution order, keyed by the virtual's id (cached). */
  members(): Promise<Map<string, string[]>> {
    return this.memberships.get('', () => this.loadMembers(this.db.manager));
  }

  /**
   * Inserts a new repository (with a virtual's links, planned inside the same transaction);
   * returns null when the key is taken.
   */
  async create(
    values: Pick<RepositoryEntity, 'key' | 'rclass' | 'packageType' | 'description' | 'anonymousRead' | 'settings'>,
    planLinks?: LinksPlanner,
  ): Promise<RepositoryEntity | null> {
    const created = await this.db.transaction(async (manager) => {
      const rows = await manager.query(
        `INSERT INTO repositories (key, rclass, package_type, description, anonymous_read, settings)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING id`,
        [values.key, values.rclass, values.packageType, values.description, values.anonymousRead, JSON.stringify(values.settings)],
      );
      if (!rows.length) return false;
      if (planLinks) await this.writeLinks(manager, { id: rows[0].id, key: values.key }, planLinks);
      return true;
    });
    await this.feed.publish('repositories');
    return created ? this.findByKey(values.key) : null;
  }

  async update(id: string, values: Pick<RepositoryEntity, 'key' | 'description' | 'anonymousRead' | 'settings'>, planLinks?: LinksPlanner): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query(`UPDATE repositories SET description = $2, anonymous_read = $3, settings = $4, updated_at = now() WHERE id = $1`, [
        id,
        values.description,
        values.anonymousRead,
        JSON.stringify(values.settings),
      ]);
      if (planLinks) await this.writeLinks(manager, { id, key: values.key }, planLinks);
    });
    await this.feed.publish('repositories');
  }

  private async writeLinks(manager: EntityManager, self: { id: string; key: string }, planLinks: LinksPlanner): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [TOPOLOGY_LOCK]);
    const graph = await this.loadGraph(manager);
    const links = planLinks(graph, self);
    await manager.query(`DELETE FROM virtual_members WHERE virtual_id = $1`, [self.id]);
    if (links.memberIds.length) {
      await manager.query(
        `INSERT INTO virtual_members (virtual_id, member_id, position)
         SELECT $1, member_id, position - 1 FROM unnest($2::uuid[]) WITH ORDINALITY AS m(member_id, position)`,
        [self.id, links.memberIds],
      );
    }
    await manager.query(`UPDATE repositories SET default_deployment_repository_id = $2 WHERE id = $1`, [self.id, links.deploymentId]);
  }

  private async loadGraph(manager: EntityManager): Promise<RepositoryGraph> {
    const repositories = await manager.query(
      `SELECT id, key, rclass, default_deployment_repository_id AS "defaultDeploymentRepositoryId" FROM repositories ORDER BY key COLLATE "C"`,
    );
    return { repositories, members: await this.loadMembers(manager) };
  }

  private async loadMembers(manager: EntityManager): Promise<Map<string, string[]>> {
    const rows: Array<{ virtual_id: string; member_id: string }> = await manager.query(`SELECT virtual_id, member_id FROM virtual_members ORDER BY virtual_id, position`);
    const members = new Map<string, string[]>();
    for (const row of rows) members.set(row.virtual_id, [...(members.get(row.virtual_id) ?? []), row.member_id]);
    return members;
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
            // Downloads running now (on any host) lose their lease, so they do not link what they fetch.
            await manager.query(`DELETE FROM remote_download_leases WHERE repository_id = $1`, [id]);
            return countRows(images);
          });
    await this.feed.publish('tags');
    return removed;
  }

  /**
   * Removes the repository; its images, manifests, tags, links and uploads go with it, and so do
   * its places in virtuals and any deployment target naming it (foreign keys, one statement).
   */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [TOPOLOGY_LOCK]);
      await manager.query(`DELETE FROM repositories WHERE id = $1`, [id]);
      // A deleted nested virtual may have been the way a deployment target was a member.
      await manager.query(
        `WITH RECURSIVE reach(virtual_id, member_id) AS (
           SELECT virtual_id, member_id FROM virtual_members
           UNION
           SELECT r.virtual_id, m.member_id FROM reach r JOIN virtual_members m ON m.virtual_id = r.member_id
         )
         UPDATE repositories v SET default_deployment_repository_id = NULL
         WHERE v.default_deployment_repository_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM reach WHERE reach.virtual_id = v.id AND reach.member_id = v.default_deployment_repository_id)`,
      );
    });
    await this.feed.publish('repositories');
    await this.feed.publish('tags');
  }
}
