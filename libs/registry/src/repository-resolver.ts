import { Injectable } from '@nestjs/common';
import { ImageQueries, RepositoryEntity, RepositoryQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { DockerRepository } from './docker-repository';
import { LocalBlobService } from './local/local-blob.service';
import { LocalDockerRepository, LocalServices } from './local/local-docker-repository';
import { LocalManifestService } from './local/local-manifest.service';
import { LocalUploadService } from './local/local-upload.service';
import { RemoteBlobService } from './remote/remote-blob.service';
import { RemoteDockerRepository, RemoteServices } from './remote/remote-docker-repository';
import { RemoteManifestService } from './remote/remote-manifest.service';
import { RemoteTagService } from './remote/remote-tag.service';

/** The one place that switches on the repository kind. */
@Injectable()
export class RepositoryResolver {
  private readonly localServices: LocalServices;
  private readonly remoteServices: RemoteServices;

  constructor(
    private readonly repositories: RepositoryQueries,
    manifests: LocalManifestService,
    blobs: LocalBlobService,
    uploads: LocalUploadService,
    images: ImageQueries,
    remoteManifests: RemoteManifestService,
    remoteBlobs: RemoteBlobService,
    remoteTags: RemoteTagService,
  ) {
    this.localServices = { manifests, blobs, uploads, images, findLocal: (key) => this.findLocal(key) };
    this.remoteServices = { manifests: remoteManifests, blobs: remoteBlobs, tags: remoteTags, localManifests: manifests, images };
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
      case 'remote':
        return new RemoteDockerRepository(repo, this.remoteServices);
      default:
        throw new RegistryError('UNSUPPORTED', `${repo.rclass} repositories are not supported yet`);
    }
  }

  private async findLocal(key: string): Promise<RepositoryEntity | null> {
    const repo = await this.repositories.findByKey(key);
    return repo?.rclass === 'local' ? repo : null;
  }
}
