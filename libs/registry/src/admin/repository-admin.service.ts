import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AccessControl, Principal, canAdminister, isAnonymous } from '@wharf/auth';
import { RepositoryAction, RepositoryClass, RepositoryEntity, RepositoryQueries } from '@wharf/db';

export interface RepositoryDefinition {
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
  ) {}

  async list(principal: Principal, rclass?: RepositoryClass): Promise<RepositoryView[]> {
    const all = await this.repositories.list(rclass);
    if (canAdminister(principal)) return all.map(view);
    const readable = new Set(await this.access.readableKeys(principal));
    return all.filter((repo) => readable.has(repo.key)).map(view);
  }

  async get(principal: Principal, key: string): Promise<RepositoryView> {
    return view(await this.findFor(principal, key, 'read'));
  }

  async create(principal: Principal, key: string, definition: RepositoryDefinition): Promise<RepositoryView> {
    if (isAnonymous(principal)) throw new UnauthorizedException('log in to create repositories');
    if (!canAdminister(principal)) throw new ForbiddenException('only administrators create repositories');
    this.checkKey(key, definition);
    this.checkSupported(definition.rclass);
    const created = await this.repositories.create({
      key,
      rclass: definition.rclass,
      packageType: definition.packageType,
      description: definition.description ?? '',
      anonymousRead: definition.anonymousRead ?? false,
      settings: {},
    });
    if (!created) throw new ConflictException(`repository ${key} already exists`);
    return view(created);
  }

  async update(principal: Principal, key: string, definition: Partial<RepositoryDefinition>): Promise<RepositoryView> {
    const existing = await this.findFor(principal, key, 'manage');
    this.checkKey(key, definition);
    if (definition.rclass !== undefined && definition.rclass !== existing.rclass) {
      throw new BadRequestException(`rclass cannot change (${existing.rclass} -> ${definition.rclass}): delete and create the repository instead`);
    }
    await this.repositories.update(existing.id, {
      description: definition.description ?? existing.description,
      anonymousRead: definition.anonymousRead ?? existing.anonymousRead,
      settings: existing.settings,
    });
    return view((await this.repositories.findByKey(key))!);
  }

  async delete(principal: Principal, key: string): Promise<void> {
    await this.repositories.delete((await this.findFor(principal, key, 'manage')).id);
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
    if (rclass !== 'local') throw new BadRequestException(`rclass ${rclass} is not supported yet: only local repositories can be created`);
  }
}

function view(repo: RepositoryEntity): RepositoryView {
  return {
    key: repo.key,
    rclass: repo.rclass,
    packageType: repo.packageType,
    description: repo.description,
    anonymousRead: repo.anonymousRead,
    createdAt: repo.createdAt.toISOString(),
    updatedAt: repo.updatedAt.toISOString(),
  };
}
