import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { RepositoryClass, RepositoryEntity, RepositoryQueries } from '@wharf/db';

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

/** Repository configuration, Artifactory-style. Remote and virtual kinds arrive with their own issues. */
@Injectable()
export class RepositoryAdminService {
  constructor(private readonly repositories: RepositoryQueries) {}

  async list(rclass?: RepositoryClass): Promise<RepositoryView[]> {
    return (await this.repositories.list(rclass)).map(view);
  }

  async get(key: string): Promise<RepositoryView> {
    return view(await this.find(key));
  }

  async create(key: string, definition: RepositoryDefinition): Promise<RepositoryView> {
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

  async update(key: string, definition: Partial<RepositoryDefinition>): Promise<RepositoryView> {
    const existing = await this.find(key);
    this.checkKey(key, definition);
    if (definition.rclass !== undefined && definition.rclass !== existing.rclass) {
      throw new BadRequestException(`rclass cannot change (${existing.rclass} -> ${definition.rclass}): delete and create the repository instead`);
    }
    await this.repositories.update(existing.id, {
      description: definition.description ?? existing.description,
      anonymousRead: definition.anonymousRead ?? existing.anonymousRead,
      settings: existing.settings,
    });
    return this.get(key);
  }

  async delete(key: string): Promise<void> {
    await this.repositories.delete((await this.find(key)).id);
  }

  private async find(key: string): Promise<RepositoryEntity> {
    const repo = await this.repositories.findByKey(key);
    if (!repo) throw new NotFoundException(`repository ${key} not found`);
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
