import { Injectable } from '@nestjs/common';
import { ImageQueries, RepositoryEntity } from '@wharf/db';
import { DockerRepository } from '../docker-repository';
import { LocalBlobService } from '../local/local-blob.service';
import { LocalDockerRepository, LocalServices } from '../local/local-docker-repository';
import { LocalManifestService } from '../local/local-manifest.service';
import { LocalUploadService } from '../local/local-upload.service';
import { RepositoryKind, RepositoryOpener, StoredDefinition } from './repository-kind';

/** Hosted repositories: no settings of their own. */
@Injectable()
export class LocalKind implements RepositoryKind {
  readonly rclass = 'local' as const;
  readonly fields = [] as const;
  private readonly services: Omit<LocalServices, 'mountSources'>;

  constructor(manifests: LocalManifestService, blobs: LocalBlobService, uploads: LocalUploadService, images: ImageQueries) {
    this.services = { manifests, blobs, uploads, images };
  }

  define(): StoredDefinition {
    return { settings: {} };
  }

  view(): Record<string, unknown> {
    return {};
  }

  async open(repo: RepositoryEntity, opener: RepositoryOpener): Promise<DockerRepository> {
    return new LocalDockerRepository(repo, { ...this.services, mountSources: (key, mayRead) => mountSources(opener, key, mayRead) });
  }
}

/**
 * The repositories a cross-repository mount may take a blob from when `from` names `key`: a
 * local repository itself, or a virtual's local members the caller may read.
 */
async function mountSources(opener: RepositoryOpener, key: string, mayRead?: (key: string) => Promise<boolean>): Promise<RepositoryEntity[]> {
  const graph = await opener.graph();
  const source = graph.repositories.find((repo) => repo.key === key);
  if (!source) return [];
  const candidates = source.rclass === 'virtual' ? await opener.members(source.id) : [source.id];
  const found: RepositoryEntity[] = [];
  for (const id of candidates) {
    const repo = await opener.findById(id);
    if (repo?.rclass === 'local' && (!mayRead || repo.key === key || (await mayRead(repo.key)))) found.push(repo);
  }
  return found;
}
