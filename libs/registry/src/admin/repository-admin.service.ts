import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AccessControl, Principal, canAdminister, isAnonymous, requireAdmin } from '@wharf/auth';
import { RepositoryAction, RepositoryClass, RepositoryEntity, RepositoryQueries } from '@wharf/db';
import { RemoteBlobService } from '../remote/remote-blob.service';
import { REMOTE_FIELDS, RemoteFields, RemoteSettingsBuilder } from './remote-settings-builder';

export interface RepositoryDefinition extends RemoteFields {
  key?: string;
  rclass: RepositoryClass;
  packageType: 'docker';
  description?: string;
  anonymousRead?: boolean;
}

export interface RepositoryView {
  key: string;
  rclass: RepositoryClass;
  packageType: string;
  description: string;
  anonymousRead: boolean;
  createdAt: string;
  updatedAt: string;
  /** Remote repositories: url, username, the masked password and the cache settings. */
  [remoteField: string]: unknown;
}

/**
 * Repository configuration, Artifactory-style. Remote and virtual kinds arrive with their own
 * issues. Reading needs read on the repository (a repository one may not read is "not found"),
 * changing it needs manage, creating one needs an admin.
 */
@Injectable()
export class RepositoryAdminService {
  constructor(
    private readonly repositories: RepositoryQueries,
    private readonly access: AccessControl,
    private readonly remotes: RemoteSettingsBuilder,
    private readonly remoteBlobs: RemoteBlobService,
  ) {}

  async list(principal: Principal, rclass?: RepositoryClass): Promise<RepositoryView[]> {
    const all = await this.repositories.list(rclass);
    if (canAdminister(principal)) return all.map((repo) => this.view(repo));
    const readable = new Set(await this.access.readableKeys(principal));
    return all.filter((repo) => readable.has(repo.key)).map((repo) => this.view(repo));
  }

  async get(principal: Principal, key: string): Promise<RepositoryView> {
    return this.view(await this.findFor(principal, key, 'read'));
  }

  async create(principal: Principal, key: string, definition: RepositoryDefinition): Promise<RepositoryView> {
    requireAdmin(principal, 'create repositories');
    this.checkKey(key, definition);
    this.checkSupported(definition.rclass);
    this.checkFieldsFit(definition.rclass, definition);
    const created = await this.repositories.create({
      key,
      rclass: definition.rclass,
      packageType: definition.packageType,
      description: definition.description ?? '',
      anonymousRead: definition.anonymousRead ?? false,
      settings: definition.rclass === 'remote' ? { ...this.remotes.build(definition) } : {},
    });
    if (!created) throw new ConflictException(`repository ${key} already exists`);
    return this.view(created);
  }

  async update(principal: Principal, key: string, definition: Partial<RepositoryDefinition>): Promise<RepositoryView> {
    const existing = await this.findFor(principal, key, 'manage');
    this.checkKey(key, definition);
    if (definition.rclass !== undefined && definition.rclass !== existing.rclass) {
      throw new BadRequestException(`rclass cannot change (${existing.rclass} -> ${definition.rclass}): delete and create the repository instead`);
    }
    this.checkFieldsFit(existing.rclass, definition);
    await this.repositories.update(existing.id, {
      description: definition.description ?? existing.description,
      anonymousRead: definition.anonymousRead ?? existing.anonymousRead,
      settings: existing.rclass === 'remote' ? { ...this.remotes.build(definition, existing.settings) } : existing.settings,
    });
    return this.view((await this.repositories.findByKey(key))!);
  }

  async delete(principal: Principal, key: string): Promise<void> {
    await this.repositories.delete((await this.findFor(principal, key, 'manage')).id);
  }

  /** Drops a remote's cached manifests and tags (of one image, or all, with the blob links). */
  async purgeCache(principal: Principal, key: string, image?: string): Promise<{ imagesRemoved: number }> {
    const repo = await this.findFor(principal, key, 'manage');
    if (repo.rclass !== 'remote') throw new BadRequestException(`${key} is a ${repo.rclass} repository: only remote repositories have a cache`);
    await this.remoteBlobs.settled(repo.id);
    return { imagesRemoved: await this.repositories.purgeCache(repo.id, image) };
  }

  /** The repository if the principal holds `action` on it; one it may not read does not exist. */
  private async findFor(principal: Principal, key: string, action: RepositoryAction): Promise<RepositoryEntity> {
    const repo = await this.repositories.findByKey(key);
    const held = repo ? await this.access.actionsOn(principal, key) : new Set<RepositoryAction>();
    if (!repo || !held.has('read')) {
      if (isAnonymous(principal)) throw new UnauthorizedException('authentication required');
      throw new NotFoundException(`repository ${key} not found`);
    }
    if (!held.has(action)) throw new ForbiddenException(`${action} permission on ${key} is required`);
    return repo;
  }

  private checkKey(key: string, definition: Partial<RepositoryDefinition>): void {
    if (definition.key !== undefined && definition.key !== key) {
      throw new BadRequestException(`key in the body (${definition.key}) differs from the key in the path (${key})`);
    }
  }

  private checkSupported(rclass: RepositoryClass): void {
    if (rclass === 'virtual') throw new BadRequestException('rclass virtual is not supported yet: create local or remote repositories');
  }

  private checkFieldsFit(rclass: RepositoryClass, definition: Partial<RepositoryDefinition>): void {
    if (rclass === 'remote') return;
    const misplaced = REMOTE_FIELDS.filter((field) => definition[field] !== undefined);
    if (misplaced.length) throw new BadRequestException(`${misplaced.join(', ')} apply to remote repositories only`);
  }

  private view(repo: RepositoryEntity): RepositoryView {
    return {
      key: repo.key,
      rclass: repo.rclass,
      packageType: repo.packageType,
      description: repo.description,
      anonymousRead: repo.anonymousRead,
      ...(repo.rclass === 'remote' ? this.remotes.view(repo.settings) : {}),
      createdAt: repo.createdAt.toISOString(),
      updatedAt: repo.updatedAt.toISOString(),
    };
  }
}
