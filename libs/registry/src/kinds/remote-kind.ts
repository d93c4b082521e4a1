import { Injectable } from '@nestjs/common';
import { ImageQueries, RepositoryEntity } from '@wharf/db';
import { DockerRepository } from '../docker-repository';
import { REMOTE_FIELDS, RemoteSettingsBuilder } from '../admin/remote-settings-builder';
import { LocalManifestService } from '../local/local-manifest.service';
import { RemoteBlobService } from '../remote/remote-blob.service';
import { RemoteDockerRepository, RemoteServices } from '../remote/remote-docker-repository';
import { RemoteManifestService } from '../remote/remote-manifest.service';
import { RemoteTagService } from '../remote/remote-tag.service';
import { RepositoryFields, RepositoryKind, StoredDefinition } from './repository-kind';

/** Pull-through caches: the upstream, its credentials (sealed), timeouts and cache period. */
@Injectable()
export class RemoteKind implements RepositoryKind {
  readonly rclass = 'remote' as const;
  readonly fields = REMOTE_FIELDS;
  private readonly services: RemoteServices;

  constructor(
    private readonly builder: RemoteSettingsBuilder,
    manifests: RemoteManifestService,
    blobs: RemoteBlobService,
    tags: RemoteTagService,
    localManifests: LocalManifestService,
    images: ImageQueries,
  ) {
    this.services = { manifests, blobs, tags, localManifests, images };
  }

  define(fields: RepositoryFields, existing?: RepositoryEntity): StoredDefinition {
    // Only the remote's own fields become settings: the common ones have columns.
    const own = Object.fromEntries(REMOTE_FIELDS.map((field) => [field, fields[field]]));
    return { settings: { ...this.builder.build(own, existing?.settings) } };
  }

  view(repo: RepositoryEntity): Record<string, unknown> {
    // Rows written before settings were limited to the remote's fields may hold common ones.
    const view = this.builder.view(repo.settings);
    return Object.fromEntries(REMOTE_FIELDS.map((field) => [field, view[field]]));
  }

  async open(repo: RepositoryEntity): Promise<DockerRepository> {
    return new RemoteDockerRepository(repo, this.services);
  }
}
