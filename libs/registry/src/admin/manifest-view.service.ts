import { Injectable } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import { PromotionQueries, PromotionRecord, RepositoryQueries, TagQueries } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES, RegistryError, isValidImageName } from '@wharf/oci';
import { RepositoryResolver } from '../repository-resolver';
import { VirtualDockerRepository } from '../virtual/virtual-docker-repository';

/** A manifest as the REST API shows it: what it is, where it is held, its tags, and the promotions it took part in. */
export interface ManifestView {
  repository: string;
  image: string;
  reference: string;
  /** The repository holding it: a virtual's member that serves it, else the repository itself. */
  servedBy: string;
  digest: string;
  mediaType: string;
  size: number;
  /** Tags of the image (where it is held) that point at it. */
  tags: string[];
  /** Promotions that carried it, newest first: the stages it passed, and when. */
  promotions: PromotionRecord[];
}

@Injectable()
export class ManifestViewService {
  constructor(
    private readonly access: AccessControl,
    private readonly resolver: RepositoryResolver,
    private readonly repositories: RepositoryQueries,
    private readonly tags: TagQueries,
    private readonly promotions: PromotionQueries,
  ) {}

  /** As a pull would find it (a remote may fetch the manifest from its upstream); needs read. */
  async view(principal: Principal, key: string, image: string, reference: string): Promise<ManifestView> {
    await this.access.require(principal, key, 'read');
    if (!isValidImageName(image)) throw new RegistryError('NAME_INVALID', `invalid image name "${image.slice(0, 140)}"`);
    const repository = await this.resolver.resolve(key, (member) => this.access.mayReadMember(principal, member));
    const accept = [...MANIFEST_MEDIA_TYPES];
    let servedBy = key;
    let manifest;
    if (repository instanceof VirtualDockerRepository) {
      const resolution = await repository.resolveManifest(image, reference, accept);
      if (!resolution.manifest) throw resolution.error ?? new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${key}/${image}`);
      manifest = resolution.manifest;
      servedBy = resolution.servedBy!;
    } else {
      manifest = await repository.getManifest(image, reference, accept);
    }
    const holder = await this.repositories.findByKey(servedBy);
    const [tags, promotions] = await Promise.all([
      holder ? this.tags.pointingAt(holder.id, image, manifest.digest) : [],
      this.promotions.list({ digest: manifest.digest, readable: await this.access.readableKeys(principal), limit: 100 }),
    ]);
    return { repository: key, image, reference, servedBy, digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size, tags, promotions };
  }
}
