import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { AccessControl, Principal, REPOSITORY_ACTIONS, canAdminister, requireAdmin } from '@wharf/auth';
import { AuditTrail, RepositoryAction, RepositoryClass, RepositoryEntity, RepositoryQueries, StorageUsageQueries } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES } from '@wharf/oci';
import { RepositoryFields } from '../kinds/repository-kind';
import { RepositoryKinds } from '../kinds/repository-kinds';
import { RemoteBlobService } from '../remote/remote-blob.service';
import { RepositoryResolver } from '../repository-resolver';
import { ManifestResolution } from '../virtual/manifest-resolution';
import { VirtualDockerRepository } from '../virtual/virtual-docker-repository';

export interface RepositoryStats {
  images: number;
  bytes: number;
}

export type RepositoryDefinition = RepositoryFields & { rclass: RepositoryClass; packageType: 'docker' };

export interface RepositoryView {
  key: string;
  rclass: RepositoryClass;
  packageType: string;
  description: string;
  anonymousRead: boolean;
  createdAt: string;
  updatedAt: string;
  /** What the caller may do to it (read, write, delete, manage), so a UI offers only those. */
  actions: RepositoryAction[];
  /** A local or remote repository's images, and the bytes of the blobs it links from the usage counters, folded as they are read. */
  stats?: RepositoryStats;
  /** The kind's own settings: a remote's upstream (password masked), a virtual's members. */
  [kindField: string]: unknown;
}

/** What the resolve endpoint answers: which member serves a reference, and what each answered. */
export interface ResolutionView extends Omit<ManifestResolution, 'manifest' | 'error' | 'servedBy'> {
  repository: string;
  image: string;
  reference: string;
  servedBy: string | null;
  digest?: string;
  mediaType?: string;
}

/**
 * Repository configuration, Artifactory-style, for every kind through its definition in
 * RepositoryKinds. Reading needs read on the repository (a repository one may not read is "not
 * found"), changing it needs manage, creating one needs an admin.
 */
@Injectable()
export class RepositoryAdminService {
  constructor(
    private readonly repositories: RepositoryQueries,
    private readonly access: AccessControl,
    private readonly kinds: RepositoryKinds,
    private readonly resolver: RepositoryResolver,
    private readonly remoteBlobs: RemoteBlobService,
    private readonly usage: StorageUsageQueries,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal, rclass?: RepositoryClass): Promise<RepositoryView[]> {
    const all = await this.repositories.list(rclass);
    const readable = canAdminister(principal) ? undefined : new Set(await this.access.readableKeys(principal));
    const shown = all.filter((repo) => !readable || readable.has(repo.key));
    const stats = await this.freshStats(shown.filter(hasStats).map((repo) => repo.id));
    return Promise.all(shown.map((repo) => this.view(repo, principal, stats)));
  }

  async get(principal: Principal, key: string): Promise<RepositoryView> {
    return this.view(await this.findFor(principal, key, 'read'), principal);
  }

  async create(principal: Principal, key: string, definition: RepositoryDefinition): Promise<RepositoryView> {
    requireAdmin(principal, 'create repositories');
    this.checkKey(key, definition);
    const kind = this.kinds.get(definition.rclass);
    this.kinds.checkFieldsFit(definition.rclass, definition);
    const stored = kind.define(definition);
    const created = await this.audit.recorded(
      () =>
        this.repositories.create(
          {
            key,
            rclass: definition.rclass,
            packageType: definition.packageType,
            description: definition.description ?? '',
            anonymousRead: definition.anonymousRead ?? false,
            settings: stored.settings,
          },
          stored.links,
        ),
      (created) => (created ? { action: 'repository.created', repository: key, details: { rclass: definition.rclass, fields: fieldsOf(definition) } } : undefined),
    );
    if (!created) throw new ConflictException(`repository ${key} already exists`);
    return this.view(created, principal);
  }

  /** Changes what is sent, with the same validation as creation; what is not sent stays. */
  async update(principal: Principal, key: string, definition: Partial<RepositoryDefinition>): Promise<RepositoryView> {
    const existing = await this.findFor(principal, key, 'manage');
    this.checkKey(key, definition);
    if (definition.rclass !== undefined && definition.rclass !== existing.rclass) {
      throw new BadRequestException(`rclass cannot change (${existing.rclass} -> ${definition.rclass}): delete and create the repository instead`);
    }
    this.kinds.checkFieldsFit(existing.rclass, definition);
    const stored = this.kinds.get(existing.rclass).define(definition, existing);
    await this.audit.recorded(
      () =>
        this.repositories.update(
          existing.id,
          {
            key,
            description: definition.description ?? existing.description,
            anonymousRead: definition.anonymousRead ?? existing.anonymousRead,
            settings: stored.settings,
          },
          stored.links,
        ),
      () => ({ action: 'repository.updated', repository: key, details: { rclass: existing.rclass, fields: fieldsOf(definition) } }),
    );
    return this.view((await this.repositories.findByKey(key))!, principal);
  }

  async delete(principal: Principal, key: string): Promise<void> {
    const repo = await this.findFor(principal, key, 'manage');
    await this.audit.recorded(
      () => this.repositories.delete(repo.id),
      () => ({ action: 'repository.deleted', repository: key, details: { rclass: repo.rclass } }),
    );
  }

  /** Drops a remote's cached manifests and tags (of one image, or all, with the blob links). */
  async purgeCache(principal: Principal, key: string, image?: string): Promise<{ imagesRemoved: number }> {
    const repo = await this.findFor(principal, key, 'manage');
    if (repo.rclass !== 'remote') throw new BadRequestException(`${key} is a ${repo.rclass} repository: only remote repositories have a cache`);
    await this.remoteBlobs.settled(repo.id);
    const imagesRemoved = await this.audit.recorded(
      () => this.repositories.purgeCache(repo.id, image),
      (removed) => ({ action: 'repository.cache_purged', repository: key, image, details: { imagesRemoved: removed } }),
    );
    return { imagesRemoved };
  }

  /**
   * Which member of a virtual serves `image:reference` and what each member answered, in the
   * order asked, as a pull would resolve it (a manifest may be fetched from an upstream and
   * cached; no blob is). Members the caller may not read are left out.
   */
  async resolve(principal: Principal, key: string, image: string, reference: string): Promise<ResolutionView> {
    const repo = await this.findFor(principal, key, 'read');
    const opened = await this.resolver.open(repo, (member) => this.access.mayReadMember(principal, member));
    if (!(opened instanceof VirtualDockerRepository)) throw new NotFoundException(`${key} is a ${repo.rclass} repository: only virtual repositories resolve through members`);
    const { manifest, error: _, servedBy, ...trace } = await opened.resolveManifest(image, reference, [...MANIFEST_MEDIA_TYPES]);
    return {
      repository: key,
      image,
      reference,
      servedBy: servedBy ?? null,
      ...(manifest ? { digest: manifest.digest, mediaType: manifest.mediaType } : {}),
      ...trace,
    };
  }

  /** The repository if the principal holds `action` on it; one it may not read does not exist. */
  private async findFor(principal: Principal, key: string, action: RepositoryAction): Promise<RepositoryEntity> {
    await this.access.require(principal, key, action);
    return (await this.repositories.findByKey(key))!;
  }

  private checkKey(key: string, definition: Partial<RepositoryDefinition>): void {
    if (definition.key !== undefined && definition.key !== key) {
      throw new BadRequestException(`key in the body (${definition.key}) differs from the key in the path (${key})`);
    }
  }

  /** Usage with the pushes and deletions recorded so far folded in (unless a fold is running elsewhere): a list right after a push shows its bytes. */
  private async freshStats(ids: string[]): Promise<Map<string, RepositoryStats>> {
    if (ids.length === 0) return new Map();
    await this.usage.fold(false);
    return this.usage.summaries(ids);
  }

  /** `stats`: the usage of the repositories listed, read at once; otherwise read for this one. */
  private async view(repo: RepositoryEntity, principal: Principal, stats?: Map<string, RepositoryStats>): Promise<RepositoryView> {
    const [actions, usage] = await Promise.all([
      this.access.actionsOn(principal, repo.key),
      !hasStats(repo) ? undefined : stats ? stats.get(repo.id) : this.freshStats([repo.id]).then((found) => found.get(repo.id)),
    ]);
    return {
      key: repo.key,
      rclass: repo.rclass,
      packageType: repo.packageType,
      description: repo.description,
      anonymousRead: repo.anonymousRead,
      ...this.kinds.get(repo.rclass).view(repo, await this.resolver.graph()),
      createdAt: repo.createdAt.toISOString(),
      updatedAt: repo.updatedAt.toISOString(),
      actions: REPOSITORY_ACTIONS.filter((action) => actions.has(action)),
      ...(usage ? { stats: usage } : {}),
    };
  }
}

/** The settings a change named, for the audit log: their names, never their values (a remote's password is one). */
function fieldsOf(definition: Partial<RepositoryDefinition>): string[] {
  return Object.keys(definition).filter((field) => (definition as Record<string, unknown>)[field] !== undefined);
}

/** A virtual stores nothing of its own: its members have the stats. */
function hasStats(repo: RepositoryEntity): boolean {
  return repo.rclass !== 'virtual';
}
