import { Injectable } from '@nestjs/common';
import { ImageQueries, RepositoryEntity, RepositoryQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { DockerRepository } from './docker-repository';
import { LocalBlobService } from './local/local-blob.service';
import { LocalDockerRepository, LocalServices } from './local/local-docker-repository';
import { LocalManifestService } from './local/local-manifest.service';
import { LocalUploadService } from './local/local-upload.service';

/** The one place that switches on the repository kind. */
@Injectable()
export class RepositoryResolver {
  private readonly localServices: LocalServices;

  constructor(
    private readonly repositories: RepositoryQueries,
    manifests: LocalManifestService,
    blobs: LocalBlobService,
    uploads: LocalUploadService,
    images: ImageQueries,
  ) {
    this.localServices = { manifests, blobs, uploads, images, findLocal: (key) => this.findLocal(key) };
  }

  async resolve(key: string): Promise<DockerRepository> {
    const repo = await this.repositories.findByKey(key);
    if (!repo) throw new RegistryError('NAME_UNKNOWN', `repository ${key} not found`);
    return this.forEntity(repo);
  }

  private forEntity(repo: RepositoryEntity): DockerRepository {
    switch (repo.rclass) {
      case 'local':
        return new LocalDockerRepository(repo, this.localServices);
      default:
        throw new RegistryError('UNSUPPORTED', `${repo.rclass} repositories are not supported yet`);
    }
  }

  private async findLocal(key: string): Promise<RepositoryEntity | null> {
    const repo = await this.repositories.findByKey(key);
    return repo?.rclass === 'local' ? repo : null;
  }
}
